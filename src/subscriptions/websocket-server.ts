import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { clientError } from '../errors/error-codes.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { type PersistedOperations, resolvePersistedOperation } from '../plugins/use-persisted-operation-list.js';
import type { GraphQLContext } from '../schema/context.js';
import { findRevocation } from '../tenancy/entitlement.js';
import { reportResolutionFailure } from '../tenancy/resolution-failure.js';
import type { ResolvedTenant, TenantResolver } from '../tenancy/resolve-tenant.js';
import type { TenantRegistry } from '../tenancy/tenant-registry.js';
import { clientFacingError, clientFacingResult } from './client-facing-errors.js';
import type { SubscriptionSlot, SubscriptionSlots } from './subscription-slots.js';

export interface WebSocketServerOptions {
  server: Server;
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  resolveTenant: TenantResolver;
  registry: TenantRegistry;
  logger: Logger;
  limits: {
    /** How often idle connections re-check token expiry, tenant status and membership. */
    recheckMs: number;
    /** How long a client may take to send connection_init. */
    initTimeoutMs: number;
    /** Operations one connection may run at once. */
    perConnection: number;
    /** Operations one tenant may run at once on this instance, over all its connections. */
    perTenant: number;
    /**
     * Largest message a client may send, in bytes: `connection_init` arrives before the caller is
     * known, and ws would otherwise buffer up to 100 MiB of it.
     */
    maxMessageBytes: number;
  };
  /** Each tenant's budget of running operations on this instance, shared with HTTP subscriptions. */
  slots: SubscriptionSlots;
  /** Which operations may run, and registered documents (APQ): the same rule HTTP requests are held to. */
  persistedOperations: PersistedOperations;
  /** Protocol-level ping interval that keeps idle connections (and proxies) alive. */
  keepAliveMs?: number;
}

/** What the context factory gets for a websocket operation instead of an HTTP request. */
export interface WebSocketInitialContext {
  websocket: {
    authorization: string | undefined;
    tenantHeader: string | undefined;
    requestId: string;
    close(code: number, reason: string): void;
  };
}

interface ConnectionState {
  resolved: ResolvedTenant;
  authorization: string | undefined;
  tenantHeader: string | undefined;
  /** This connection's running operations, by id. */
  operations: Map<string, Operation>;
}

/**
 * One subscribe message's operation. Ids are not enough to tell operations apart: a client may
 * complete an id and reuse it at once, while the first operation is still ending (or still being
 * set up), and graphql-ws reports both ends under the same id. Each message's payload object is
 * its own, and graphql-ws hands the same one to onSubscribe and onComplete: that is the key.
 */
interface Operation {
  id: string;
  slot: SubscriptionSlot;
  /** Its event stream, once subscribed; ended first when the server drains. */
  stream?: AsyncIterator<unknown>;
}

interface OperationRoot {
  execute(args: ExecutionArgs): unknown;
  subscribe(args: ExecutionArgs): unknown;
  register(stream: AsyncIterator<unknown>): void;
}

/** WebSocket close code 1013, "Try Again Later": the server cannot take the connection now. */
const TRY_AGAIN_LATER = 1013;

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The id of a client's `complete` message; undefined for anything else (graphql-ws judges those). */
function completedId(data: RawData): string | undefined {
  const raw = String(data);
  if (raw.length > 1_000 || !raw.includes('complete')) return undefined;
  try {
    const message = JSON.parse(raw) as { type?: unknown; id?: unknown };
    return message.type === 'complete' && typeof message.id === 'string' ? message.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's /graphql path. The token comes from
 * connectionParams, never the URL; the connection is resolved to exactly one tenant at
 * connection_init, and every operation runs through Yoga's own envelop (same context factory and
 * plugins as HTTP). Idle connections are re-checked on an interval and closed with 4401/4403.
 */
export function attachWebSocketServer(options: WebSocketServerOptions) {
  // Upgrades are handed over here rather than through ws's `server` option, with which ws re-emits
  // the HTTP server's own errors (a port in use) as its own, and graphql-ws prints those with a stack.
  const wss = new WebSocketServer({ noServer: true, path: '/graphql', maxPayload: options.limits.maxMessageBytes });
  options.server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (websocket) => wss.emit('connection', websocket, request));
  });
  const connections = new Map<WebSocket, ConnectionState>();
  const { limits } = options;
  const slots = options.slots;
  const operationOf = new WeakMap<object, Operation>();
  let draining = false;
  // Every way an operation ends comes here, possibly more than once: its slot is given back once,
  // and its stream (if any) is ended, so nothing keeps listening for a client that left.
  const end = (state: ConnectionState, operation: Operation) => {
    if (state.operations.get(operation.id) === operation) state.operations.delete(operation.id);
    operation.slot.release();
    operation.stream?.return?.().catch(() => {});
  };

  const closeSocket = (socket: WebSocket, code: number, reason: string) => {
    if (socket.readyState === socket.OPEN) socket.close(code, reason);
  };

  const disposable = useServer<Record<string, unknown>>(
    {
      connectionInitWaitTimeout: limits.initTimeoutMs,
      execute: (args) => (args.rootValue as OperationRoot).execute(args) as never,
      subscribe: async (args) => {
        const root = args.rootValue as OperationRoot;
        const result = await root.subscribe(args);
        if (result && typeof result === 'object' && Symbol.asyncIterator in result)
          root.register(result as unknown as AsyncIterator<unknown>);
        return result as never;
      },
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = text(params.Authorization) ?? text(params.authorization);
        const tenantHeader = text(params['X-Tenant-ID']) ?? text(params['x-tenant-id']);
        try {
          const resolved = await options.resolveTenant({ authorization, tenantHeader, requestId: randomUUID() });
          connections.set(ctx.extra.socket, { resolved, authorization, tenantHeader, operations: new Map() });
          return true;
        } catch (error) {
          const code = reportResolutionFailure(error, options.logger, { transport: 'websocket' });
          const [closeCode, reason] =
            code === 'UNAVAILABLE'
              ? [TRY_AGAIN_LATER, 'Service unavailable'] // try again later, not "forbidden"
              : code === 'UNAUTHENTICATED'
                ? [4401, 'Unauthorized']
                : [4403, 'Forbidden'];
          closeSocket(ctx.extra.socket, closeCode, reason);
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = connections.get(ctx.extra.socket);
        if (!state) return [clientError('UNAUTHENTICATED')];
        // What to run (the text, or a document registered under its hash) is found first: from the
        // limits below to taking a slot nothing awaits, so concurrent subscribe messages cannot
        // overshoot them.
        const operation = await resolvePersistedOperation(options.persistedOperations, state.resolved.context.tenantId, payload);
        if (connections.get(ctx.extra.socket) !== state) return [clientError('UNAUTHENTICATED')];
        if (draining) return [clientError('UNAVAILABLE')];
        // graphql-ws lets an id be used again only once the client completed it: whatever still
        // runs under it is over for the client, and must not hold a slot any longer.
        const previous = state.operations.get(id);
        if (previous) end(state, previous);
        if (state.operations.size >= limits.perConnection) {
          return [clientError('RATE_LIMITED', { message: `At most ${limits.perConnection} subscriptions per connection` })];
        }
        const initial: WebSocketInitialContext = {
          websocket: {
            authorization: state.authorization,
            tenantHeader: state.tenantHeader,
            requestId: randomUUID(),
            close: (code, reason) => closeSocket(ctx.extra.socket, code, reason),
          },
        };
        const { schema, execute, subscribe, contextFactory, parse, validate } = options.yoga.getEnveloped(initial);
        if ('error' in operation) return [operation.error];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(operation.query ?? '');
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        if (operation.register)
          void options.persistedOperations.registered.set(operation.register.key, operation.register.document);
        // One tenant cannot take every subscription slot of an instance from the others. The slot is
        // taken before the next await, so concurrent subscribe messages cannot overshoot.
        const slot = slots.take(state.resolved.context.tenantId);
        if (!slot) {
          increment('subscription_tenant_limit');
          return [clientError('RATE_LIMITED', { message: 'Too many subscriptions for this tenant' })];
        }
        const running: Operation = { id, slot };
        state.operations.set(id, running);
        operationOf.set(payload, running);
        let contextValue: GraphQLContext;
        try {
          contextValue = (await contextFactory()) as unknown as GraphQLContext;
        } catch (error) {
          end(state, running);
          // The context factory answers with a coded error (see app.ts). The registry could not be
          // read: this operation may succeed later, and the socket stays.
          if ((error as GraphQLError).extensions?.code === 'UNAVAILABLE') return [clientError('UNAVAILABLE')];
          // The tenant can no longer be resolved: the whole connection is done.
          closeSocket(ctx.extra.socket, 4403, 'Forbidden');
          return [clientError('FORBIDDEN')];
        }
        // Completed, or its socket closed, or its id reused, while the context was being made: do
        // not start it. (graphql-ws sends this error only if the id was reused meanwhile.)
        if (slot.released || !(id in ctx.subscriptions)) {
          end(state, running);
          return [clientError('CONFLICT', { message: `Operation ${id} ended before it started` })];
        }
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: {
            execute,
            subscribe,
            register: (stream) => {
              running.stream = stream;
              // Ended while graphql-ws was subscribing: nothing will iterate this stream.
              if (slot.released) end(state, running);
            },
          } satisfies OperationRoot,
        } as ExecutionArgs;
      },
      // The same error reads the same over HTTP, server-sent events and here.
      onError: (_ctx, _id, _payload, errors) => errors.map(clientFacingError),
      onNext: (_ctx, _id, _payload, _args, result) => clientFacingResult(result),
      // Called when an operation ends, however it ends (done, completed by the client, ended by the
      // server with an error) — after its stream, so `id` may already name a newer operation.
      onComplete: (ctx, _id, payload) => {
        const state = connections.get(ctx.extra.socket);
        const operation = operationOf.get(payload);
        if (state && operation) end(state, operation);
      },
      onClose: (ctx) => {
        const state = connections.get(ctx.extra.socket);
        if (state) for (const operation of [...state.operations.values()]) end(state, operation);
        connections.delete(ctx.extra.socket);
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  // A client's `complete` ends the operation it names, whatever graphql-ws still knows of it. When
  // an id is completed and reused at once, graphql-ws's cleanup of the old operation forgets the
  // new one (it deletes by id), so a later `complete` would not reach it and its slot would be
  // held until the socket closed.
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const id = completedId(data);
      const state = id === undefined ? undefined : connections.get(socket);
      const operation = id === undefined ? undefined : state?.operations.get(id);
      if (state && operation) end(state, operation);
    });
  });

  // Idle connections get no message to be checked before: check them on a timer too.
  const recheck = setInterval(() => {
    for (const [socket, state] of connections) {
      findRevocation(options.registry, state.resolved.context, state.resolved.expiresAt).then(
        (revocation) => {
          if (!revocation) return;
          increment('subscription_revoked');
          closeSocket(socket, revocation.code, revocation.reason);
        },
        (error: unknown) => options.logger.warn({ err: error }, 'subscription re-check failed'),
      );
    }
  }, limits.recheckMs);
  recheck.unref();

  return {
    /**
     * Drains, then closes every socket with 1001 (going away): new operations are refused, each
     * subscription's stream is ended (a message being resolved is still sent, then `complete`),
     * running queries finish — all within `graceMs` — and only then do sockets close.
     */
    async close(graceMs = 2_000): Promise<void> {
      draining = true;
      clearInterval(recheck);
      for (const state of connections.values()) {
        for (const operation of state.operations.values()) operation.stream?.return?.().catch(() => {});
      }
      const deadline = Date.now() + graceMs;
      const busy = () => [...connections.values()].some((state) => state.operations.size > 0);
      while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const socket of wss.clients) closeSocket(socket, 1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
