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
        return scopedMessages(stream, async (payload) => {
          const revocation = await options.revocationOf(context);
          if (revocation) {
            increment('subscription_revoked');
            // Let the error and `complete` go out first, then end the whole connection.
            setTimeout(() => context.connection?.close(revocation.code, revocation.reason), 20);
            return { last: true, result: { errors: [clientError(revocation.code === 4401 ? 'UNAUTHENTICATED' : 'FORBIDDEN')] } };
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
      });
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
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  const finish = async () => {
    finished = true;
    await iterator.return?.();
  };
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        if (!(error instanceof SubscriberTooSlowError)) throw error;
        // The client missed events: tell it so, plainly, rather than let it believe it is current.
        finished = true;
        return { done: false, value: { errors: [clientError('SUBSCRIBER_TOO_SLOW')] } };
      }
      if (step.done || finished) {
        finished = true;
        return { done: true, value: undefined };
      }
      const { result, last } = await deliver(step.value);
      if (last) await finish();
      return { done: false, value: result };
    },
    async return() {
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
