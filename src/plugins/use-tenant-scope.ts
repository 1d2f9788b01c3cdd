import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TenantDb } from '../db/tenant-db.js';
import { clientError } from '../errors/error-codes.js';
import { noteOrigin } from '../errors/error-origin.js';
import { increment } from '../observability/metrics.js';
import { SubscriberTooSlowError } from '../pubsub/tenant-pubsub.js';
import { contextForExecution, type GraphQLContext } from '../schema/context.js';
import type { Revocation } from '../tenancy/entitlement.js';
import { type Lease, LeaseTimeoutError } from '../tenancy/leased-clients.js';
import { currentTenant, runInTenant, type TenantContext } from '../tenancy/tenant-context.js';

export interface TenantScopeOptions {
  /** A tenant client bound to the execution whose tenant context is `owner`, until released. */
  lease(owner: TenantContext): Promise<Lease<TenantDb>>;
  /** Run before each subscription message: why it may not be delivered, or undefined. */
  revocationOf(context: GraphQLContext): Promise<Revocation | undefined>;
  /**
   * How often a subscription with no connection of its own (SSE) is checked while no message
   * comes (ms); websocket connections are checked by the websocket server, which closes them.
   */
  recheckMs?: number;
}

/**
 * Binds the tenant the context factory resolved to AsyncLocalStorage for the whole execution, so
 * the tenant client, loaders and logs read it from one place, and leases the execution a tenant
 * client of its own, bound to it alone and released when it ends. For subscriptions, every message
 * is a new scoped execution: entitlement re-checked first, then the payload resolved with the
 * tenant bound, a client leased for that message and fresh DataLoaders — nested fields are scoped
 * exactly like a query's.
 */
export function useTenantScope(options: TenantScopeOptions): Plugin<GraphQLContext> {
  /** Runs `execution` with `tenant` bound and a client leased to it, released however it ends. */
  const scoped = <T>(tenant: TenantContext, context: GraphQLContext, execution: (context: GraphQLContext) => T) =>
    runInTenant(tenant, async () => {
      const lease = await options.lease(currentTenant('an execution')).catch((error: unknown) => {
        // Every client busy for the whole wait: the server is saturated, the request may be retried.
        throw error instanceof LeaseTimeoutError ? clientError('UNAVAILABLE', { http: true }) : error;
      });
      try {
        return await execution(contextForExecution(context, lease.client));
      } finally {
        lease.release();
      }
    });

  const revokedResult = (revocation: Revocation): ExecutionResult => {
    increment('subscription_revoked');
    return { errors: [clientError(revocation.code === 4401 ? 'UNAUTHENTICATED' : 'FORBIDDEN')] };
  };
  const idleChecks = options.recheckMs
    ? idleSubscriptionChecks(options.recheckMs, options.revocationOf, revokedResult)
    : undefined;

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const context = args.contextValue as GraphQLContext;
      const tenant = (context as Partial<GraphQLContext>).tenant;
      if (!tenant) throw new Error('execution started without a resolved tenant');
      setExecuteFn((executeArgs) =>
        scoped(
          tenant,
          executeArgs.contextValue as GraphQLContext,
          (leased) => executeFn({ ...executeArgs, contextValue: leased }) as ReturnType<typeof execute>,
        ),
      );
      return {
        onExecuteDone: ({ result }) => {
          noteErrorsOf(result, tenant);
        },
      };
    },
    onSubscribe({ args, setSubscribeFn }) {
      const context = args.contextValue as GraphQLContext;
      if (!context.tenant) throw new Error('subscription started without a resolved tenant');
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const stream = await runInTenant(context.tenant, () => createSourceEventStream(subscribeArgs));
        if (!(Symbol.asyncIterator in stream)) return noteErrorsOf(stream as ExecutionResult, context.tenant);
        const messages = scopedMessages(stream, async (payload) => {
          const revocation = await options.revocationOf(context);
          if (revocation) {
            // Let the error and `complete` go out first, then end the whole connection.
            setTimeout(() => context.connection?.close(revocation.code, revocation.reason), 20);
            return { last: true, result: revokedResult(revocation) };
          }
          let result: ExecutionResult;
          try {
            result = await scoped(context.tenant, context, (leased) =>
              execute({ ...subscribeArgs, rootValue: payload, contextValue: leased }),
            );
          } catch (error) {
            // Saturated for this message: the subscriber is told, and stays subscribed for the next.
            if (!isUnavailable(error)) throw error;
            result = { errors: [clientError('UNAVAILABLE')] };
          }
          return { last: false, result: noteErrorsOf(result, context.tenant) };
        });
        return context.connection || !idleChecks ? messages : idleChecks.watch(context, messages);
      });
    },
  };
}

type ScopedMessages = ReturnType<typeof scopedMessages>;

/**
 * Checks, every `recheckMs`, the subscriptions that have no connection of their own to close (SSE):
 * one that is no longer allowed — token expired, tenant suspended, membership removed — is sent
 * the error and ended, as at its next message, instead of holding its stream (and its tenant's
 * slot) open until an event comes. One timer for all of them, running only while there are some.
 */
function idleSubscriptionChecks(
  recheckMs: number,
  revocationOf: TenantScopeOptions['revocationOf'],
  revokedResult: (revocation: Revocation) => ExecutionResult,
) {
  const watched = new Map<ScopedMessages, GraphQLContext>();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    for (const [messages, context] of watched) {
      revocationOf(context).then(
        (revocation) => {
          // Made (and counted) only if it is sent: an event's own check may have ended it first.
          if (revocation && watched.delete(messages)) messages.interrupt(() => revokedResult(revocation));
        },
        // The registry could not be asked: the next round, or the next message, asks again.
        () => {},
      );
    }
  };
  return {
    watch(context: GraphQLContext, messages: ScopedMessages): AsyncIterableIterator<ExecutionResult> {
      watched.set(messages, context);
      if (!timer) {
        timer = setInterval(check, recheckMs);
        timer.unref();
      }
      messages.onEnd(() => {
        watched.delete(messages);
        if (watched.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      });
      return messages;
    },
  };
}

/**
 * The error mask runs after an execution's tenant binding has ended: each error of `result` is
 * noted with whose it was, so the mask's log line names the request, tenant and user.
 */
function noteErrorsOf<Result extends object>(result: Result, tenant: TenantContext): Result {
  if ('errors' in result && Array.isArray(result.errors)) {
    for (const error of result.errors as GraphQLError[]) noteOrigin(error.originalError ?? error, tenant);
  }
  return result;
}

/**
 * Maps source events to results one at a time. Unlike an async generator, `return()` detaches
 * from the source at once, even while waiting for the next event.
 */
function scopedMessages(
  source: AsyncIterable<unknown>,
  deliver: (payload: unknown) => Promise<{ result: ExecutionResult; last: boolean }>,
) {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  /** A last result to send before ending, given from outside (interrupt). */
  let lastWord: (() => ExecutionResult) | undefined;
  const ended: (() => void)[] = [];
  const end = () => {
    if (finished) return;
    finished = true;
    for (const listener of ended.splice(0)) listener();
  };
  const finish = async () => {
    end();
    await iterator.return?.();
  };
  const done = (): IteratorResult<ExecutionResult> => {
    if (lastWord === undefined) return { done: true, value: undefined };
    const value = lastWord();
    lastWord = undefined;
    return { done: false, value };
  };
  return {
    /** Sends `result` as the last message (the one awaited now, or the next) and ends. */
    interrupt(result: () => ExecutionResult) {
      if (finished) return;
      lastWord = result;
      void finish();
    },
    onEnd(listener: () => void) {
      if (finished) listener();
      else ended.push(listener);
    },
    async next(): Promise<IteratorResult<ExecutionResult>> {
      if (finished) return done();
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        if (!(error instanceof SubscriberTooSlowError)) throw error;
        // The client missed events: tell it so, plainly, rather than let it believe it is current.
        end();
        return { done: false, value: { errors: [clientError('SUBSCRIBER_TOO_SLOW')] } };
      }
      if (step.done || finished) {
        if (!finished) await finish();
        return done();
      }
      const { result, last } = await deliver(step.value);
      if (last) {
        // This message's own check ended it: that error is the last word, not a second one.
        lastWord = undefined;
        await finish();
      }
      return { done: false, value: result };
    },
    async return(): Promise<IteratorResult<ExecutionResult>> {
      await finish();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isUnavailable(error: unknown): boolean {
  return (error as { extensions?: { code?: unknown } } | null)?.extensions?.code === 'UNAVAILABLE';
}
