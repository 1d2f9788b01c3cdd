import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { clientError } from '../errors/error-codes.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
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
  /** How often idle connections re-check token expiry, tenant status and membership. */
  recheckMs: number;
  /** How long a client may take to send connection_init. */
  connectionInitWaitMs?: number;
  /** Subscriptions one connection may hold at once. */
  maxSubscriptionsPerConnection?: number;
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
  subscriptions: number;
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
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? 20;

  const closeSocket = (socket: WebSocket, code: number, reason: string) => {
    if (socket.readyState === socket.OPEN) socket.close(code, reason);
  };

  const disposable = useServer<Record<string, unknown>>(
    {
      connectionInitWaitTimeout: options.connectionInitWaitMs ?? 3_000,
      execute: (args) => (args.rootValue as { execute(a: ExecutionArgs): never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe(a: ExecutionArgs): never }).subscribe(args),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = text(params.Authorization) ?? text(params.authorization);
        const tenantHeader = text(params['X-Tenant-ID']) ?? text(params['x-tenant-id']);
        try {
          const resolved = await options.resolveTenant({ authorization, tenantHeader, requestId: randomUUID() });
          connections.set(ctx.extra.socket, { resolved, authorization, tenantHeader, subscriptions: 0 });
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
      onSubscribe: async (ctx, _id, payload) => {
        const state = connections.get(ctx.extra.socket);
        if (!state) return [clientError('UNAUTHENTICATED')];
        if (state.subscriptions >= maxSubscriptions) {
          return [clientError('RATE_LIMITED', { message: `At most ${maxSubscriptions} subscriptions per connection` })];
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
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        let contextValue: GraphQLContext;
        try {
          contextValue = (await contextFactory()) as unknown as GraphQLContext;
        } catch {
          // The tenant can no longer be resolved: the whole connection is done.
          closeSocket(ctx.extra.socket, 4403, 'Forbidden');
          return [clientError('FORBIDDEN')];
        }
        state.subscriptions++;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        } as ExecutionArgs;
      },
      onComplete: (ctx) => {
        const state = connections.get(ctx.extra.socket);
        if (state) state.subscriptions = Math.max(0, state.subscriptions - 1);
      },
      onClose: (ctx) => {
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
  }, options.recheckMs);
  recheck.unref();

  return {
    /** Closes every socket with 1001 (going away) and stops accepting new ones. */
    async close(): Promise<void> {
      clearInterval(recheck);
      for (const socket of wss.clients) closeSocket(socket, 1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
