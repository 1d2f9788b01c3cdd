import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Config } from './config/config.js';
import type { Database } from './db/create-database.js';
import { createRegistrySource } from './db/registry-source.js';
import { createTenantDbs } from './db/tenant-db.js';
import { clientError } from './errors/error-codes.js';
import { createLoaders } from './loaders/create-loaders.js';
import type { Logger } from './observability/logger.js';
import { increment } from './observability/metrics.js';
import { createErrorMask } from './plugins/mask-error.js';
import { useOperationLog } from './plugins/use-operation-log.js';
import { loadPersistedOperationList, usePersistedOperationList } from './plugins/use-persisted-operation-list.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { requestIdOf, useRequestId } from './plugins/use-request-id.js';
import { useTenantScope } from './plugins/use-tenant-scope.js';
import { createTenantPubSub, type PubSubEventTarget, type TenantPubSub } from './pubsub/tenant-pubsub.js';
import { createRequestContext, type GraphQLContext } from './schema/context.js';
import { schema } from './schema/index.js';
import { attachWebSocketServer, type WebSocketInitialContext } from './subscriptions/websocket-server.js';
import { findRevocation } from './tenancy/entitlement.js';
import { createTenantResolver, TenantRejection } from './tenancy/resolve-tenant.js';
import { TenantRegistry } from './tenancy/tenant-registry.js';

export interface AppDependencies {
  config: Config;
  /** Migrated and checked (see prepareDatabase). */
  database: Database;
  logger: Logger;
  verifier: TokenVerifier;
  /** A token GraphiQL starts with, for local development only. */
  graphiqlToken?: string;
  /** Where events travel; in-process unless given (several instances share one through Redis). */
  eventTarget?: PubSubEventTarget;
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  registry: TenantRegistry;
  pubsub: TenantPubSub;
  server: Server;
  /** Listens on `port` (0: any free port) and resolves with the URL of /graphql. */
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting requests, lets running ones finish (up to `graceMs`), then closes. */
  stop(graceMs?: number): Promise<void>;
}

export function createApp(deps: AppDependencies): App {
  const { config, database, logger } = deps;
  const registry = new TenantRegistry(createRegistrySource(database.prisma), { ttlMs: config.registryTtlMs });
  const resolveTenant = createTenantResolver({ verifier: deps.verifier, registry, tenantClaim: config.jwt.tenantClaim });
  const tenantDbs = createTenantDbs(database, config.tenantClients);
  const pubsub = createTenantPubSub({ eventTarget: deps.eventTarget, bufferLimit: config.subscriptions.bufferLimit });

  const persistedOperations = loadPersistedOperationList({ only: config.persistedOperationsOnly });

  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/healthz',
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    maskedErrors: { maskError: createErrorMask(logger) },
    graphiql: {
      title: 'tenantgraph',
      headers: JSON.stringify({
        Authorization: `Bearer ${deps.graphiqlToken ?? '<a token from: npm run cli -- token issue --user <email> --tenant <slug>>'}`,
      }),
      defaultQuery:
        '{\n  viewer {\n    user { name email }\n    tenant { slug name }\n    role\n  }\n  projects(first: 10) {\n    totalCount\n    edges { node { id name tasks(first: 5) { totalCount edges { node { title status assignee { name } } } } } }\n  }\n}\n',
    },
    plugins: [
      useRequestId(),
      usePersistedOperationList(persistedOperations),
      useQueryLimits(),
      useTenantScope({
        contextForMessage: (context) => ({ ...context, loaders: createLoaders(context.db, context.tenant.tenantId) }),
        revocationOf: (context) => findRevocation(registry, context.tenant, context.tokenExpiresAt),
      }),
      useOperationLog(logger),
    ],
    // The tenant is resolved here, once per request; if it cannot be, nothing downstream runs.
    context: async (initial) => {
      // HTTP requests carry the token in their headers; websocket operations in connectionParams.
      const websocket = (initial as Partial<WebSocketInitialContext>).websocket;
      const requestId = websocket ? websocket.requestId : requestIdOf(initial.request);
      try {
        const resolved = await resolveTenant({
          authorization: websocket ? websocket.authorization : initial.request.headers.get('authorization'),
          tenantHeader: websocket ? websocket.tenantHeader : initial.request.headers.get('x-tenant-id'),
          requestId,
        });
        return createRequestContext(resolved, {
          db: tenantDbs.for(resolved.context.tenantId),
          pubsub,
          connection: websocket ? { close: websocket.close } : undefined,
        });
      } catch (error) {
        if (error instanceof TenantRejection) {
          increment('tenant_resolution_failed');
          logger.warn({ requestId, status: error.status, reason: error.reason }, 'request rejected by tenant resolution');
          throw clientError(error.code, { http: true });
        }
        throw error;
      }
    },
  });

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url === '/readyz') {
      database.sql.query('SELECT 1').then(
        () => respond(response, 200, { status: 'ready' }),
        () => respond(response, 503, { status: 'unavailable' }),
      );
      return;
    }
    void yoga(request, response);
  });

  const websockets = attachWebSocketServer({
    server,
    yoga,
    resolveTenant,
    registry,
    logger,
    limits: config.subscriptions,
    persistedOperations,
  });

  return {
    yoga,
    registry,
    pubsub,
    server,
    start(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ url: `http://${shownHost}:${address.port}/graphql`, port: address.port });
        });
      });
    },
    async stop(graceMs = 10_000) {
      await websockets.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await yoga.dispose();
    },
  };
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
