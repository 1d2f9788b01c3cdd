import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { clientError } from '../errors/error-codes.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { type PersistedOperationList, resolveWebSocketOperation } from '../plugins/use-persisted-operation-list.js';
import type { GraphQLContext } from '../schema/context.js';
import { findRevocation } from '../tenancy/entitlement.js';
import { type ResolvedTenant, TenantRejection, type TenantResolver } from '../tenancy/resolve-tenant.js';
import type { TenantRegistry } from '../tenancy/tenant-registry.js';

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
  };
  /** Which operations may run; the same list HTTP requests are held to. */
  persistedOperations: PersistedOperationList;
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
  /** Ids of this connection's running operations. */
  operations: Set<string>;
  /** The event streams of its running subscriptions, ended first when the server drains. */
  streams: Map<string, AsyncIterator<unknown>>;
}

interface OperationRoot {
  execute(args: ExecutionArgs): unknown;
  subscribe(args: ExecutionArgs): unknown;
  register(stream: AsyncIterator<unknown>): void;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's /graphql path. The token comes from
 * connectionParams, never the URL; the connection is resolved to exactly one tenant at
 * connection_init, and every operation runs through Yoga's own envelop (same context factory and
 * plugins as HTTP). Idle connections are re-checked on an interval and closed with 4401/4403.
 */
export function attachWebSocketServer(options: WebSocketServerOptions) {
  const wss = new WebSocketServer({ server: options.server, path: '/graphql' });
  const connections = new Map<WebSocket, ConnectionState>();
  const { limits } = options;
  const perTenant = new Map<string, number>();
  let draining = false;
  const release = (state: ConnectionState, id: string) => {
    state.streams.delete(id);
    if (!state.operations.delete(id)) return;
    const tenantId = state.resolved.context.tenantId;
    const left = (perTenant.get(tenantId) ?? 1) - 1;
    if (left > 0) perTenant.set(tenantId, left);
    else perTenant.delete(tenantId);
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
          connections.set(ctx.extra.socket, { resolved, authorization, tenantHeader, operations: new Set(), streams: new Map() });
          return true;
        } catch (error) {
          if (!(error instanceof TenantRejection)) throw error;
          increment('tenant_resolution_failed');
          options.logger.warn(
            { status: error.status, reason: error.reason, transport: 'websocket' },
            'connection rejected by tenant resolution',
          );
          closeSocket(ctx.extra.socket, error.status === 401 ? 4401 : 4403, error.status === 401 ? 'Unauthorized' : 'Forbidden');
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = connections.get(ctx.extra.socket);
        if (!state) return [clientError('UNAUTHENTICATED')];
        if (draining) return [clientError('UNAVAILABLE')];
        if (state.operations.size >= limits.perConnection) {
          return [clientError('RATE_LIMITED', { message: `At most ${limits.perConnection} subscriptions per connection` })];
        }
        // One tenant cannot take every subscription slot of an instance from the others.
        if ((perTenant.get(state.resolved.context.tenantId) ?? 0) >= limits.perTenant) {
          increment('subscription_tenant_limit');
          return [clientError('RATE_LIMITED', { message: 'Too many subscriptions for this tenant' })];
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
        const operation = resolveWebSocketOperation(options.persistedOperations, payload);
        if ('error' in operation) return [operation.error];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(operation.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        // Take the slot before the first await, so concurrent subscribe messages cannot overshoot.
        state.operations.add(id);
        perTenant.set(state.resolved.context.tenantId, (perTenant.get(state.resolved.context.tenantId) ?? 0) + 1);
        let contextValue: GraphQLContext;
        try {
          contextValue = (await contextFactory()) as unknown as GraphQLContext;
        } catch {
          release(state, id);
          // The tenant can no longer be resolved: the whole connection is done.
          closeSocket(ctx.extra.socket, 4403, 'Forbidden');
          return [clientError('FORBIDDEN')];
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
            register: (stream) => state.streams.set(id, stream),
          } satisfies OperationRoot,
        } as ExecutionArgs;
      },
      onComplete: (ctx, id) => {
        const state = connections.get(ctx.extra.socket);
        if (state) release(state, id);
      },
      onClose: (ctx) => {
        const state = connections.get(ctx.extra.socket);
        if (state) for (const id of [...state.operations]) release(state, id);
        connections.delete(ctx.extra.socket);
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

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
      for (const state of connections.values()) for (const stream of state.streams.values()) void stream.return?.();
      const deadline = Date.now() + graceMs;
      const busy = () => [...connections.values()].some((state) => state.operations.size > 0);
      while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const socket of wss.clients) closeSocket(socket, 1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
