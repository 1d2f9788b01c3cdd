import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Config } from './config/config.js';
import type { Database } from './db/create-database.js';
import { createUserProvisioner } from './db/provision-user.js';
import { createRegistrySource } from './db/registry-source.js';
import { createTenantDbs, type TenantDbs } from './db/tenant-db.js';
import { clientError } from './errors/error-codes.js';
import { createGraphQLPipeline, createRequestListener, GRAPHQL_ENDPOINT } from './graphql-pipeline.js';
import { startHeavyLane } from './heavy-queries/start-heavy-lane.js';
import type { Logger } from './observability/logger.js';
import { counterValue } from './observability/metrics.js';
import { createMemoryDocumentStore, type PersistedDocumentStore } from './plugins/persisted-document-store.js';
import { useAuthenticateFirst } from './plugins/use-authenticate-first.js';
import { useHeavyLane } from './plugins/use-heavy-lane.js';
import { loadPersistedOperationList } from './plugins/use-persisted-operation-list.js';
import { useTenantScope } from './plugins/use-tenant-scope.js';
import { createTenantPubSub, type PubSubEventTarget, type TenantPubSub } from './pubsub/tenant-pubsub.js';
import type { GraphQLContext } from './schema/context.js';
import { createSubscriptionSlots } from './subscriptions/subscription-slots.js';
import { attachWebSocketServer, type WebSocketInitialContext } from './subscriptions/websocket-server.js';
import { findRevocation } from './tenancy/entitlement.js';
import { reportResolutionFailure } from './tenancy/resolution-failure.js';
import { createTenantResolver } from './tenancy/resolve-tenant.js';
import type { TenantContext } from './tenancy/tenant-context.js';
import { TenantRegistry } from './tenancy/tenant-registry.js';

/** How long a client may take to send its request's headers, and the whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * How many connections the kernel may hold for the server before it accepts them (Linux caps it at
 * net.core.somaxconn, 4096 by default). Node accepts one connection per turn of its event loop, so a
 * burst of clients reconnecting at once waits here while the server is busy; past Node's default of
 * 511 the kernel drops them to retry a second or more later, and a client whose request was dropped
 * after its handshake can be timed out and reset, headersTimeout counting from the accept.
 */
const LISTEN_BACKLOG = 4096;

export interface AppDependencies {
  config: Config;
  /** Migrated and checked (see prepareDatabase). */
  database: Database;
  logger: Logger;
  verifier: TokenVerifier;
  /** A token GraphiQL starts with, for local development only. */
  graphiqlToken?: string;
  /**
   * Where documents registered by clients (automatic persisted queries) are kept; in-process unless
   * given (several instances share one through Redis).
   */
  persistedDocuments?: PersistedDocumentStore;
  /** Where events travel; in-process unless given (several instances share one through Redis). */
  eventTarget?: PubSubEventTarget;
  /**
   * Dependencies the server runs degraded without (Redis: events between instances), each ready or
   * not. /readyz reports them, but their absence does not make the instance unready: Redis is shared,
   * so failing readiness on it would take every instance out of the load balancer at once, while
   * queries and mutations still work.
   */
  degradedWithout?: Record<string, () => boolean>;
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  registry: TenantRegistry;
  /** The tenant clients executions lease (at most DATABASE_CLIENTS are made). */
  databaseClients: TenantDbs;
  pubsub: TenantPubSub;
  server: Server;
  /** Listens on `port` (0: any free port) and resolves with the URL of /graphql. */
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting requests, lets running ones finish (up to `graceMs`), then closes. */
  stop(graceMs?: number): Promise<void>;
}

export function createApp(deps: AppDependencies): App {
  const { config, database, logger } = deps;
  const registry = new TenantRegistry(createRegistrySource(database.prisma), {
    ttlMs: config.registryTtlMs,
    pushedTtlMs: config.registryPushedTtlMs,
    maxEntries: config.registryMaxEntries,
  });
  const resolveTenant = createTenantResolver({
    verifier: deps.verifier,
    registry,
    tenantClaim: config.jwt.tenantClaim,
    ...(config.jwt.jitUsers
      ? {
          provisionUser: createUserProvisioner(database.prisma, {
            emailClaim: config.jwt.jitEmailClaim,
            emailVerifiedClaim: config.jwt.jitEmailVerifiedClaim,
            logger,
          }),
        }
      : {}),
  });
  const tenantDbs = createTenantDbs(database, { size: config.databaseClients, waitMs: config.databaseClientWaitMs });
  // Clients are held per database. Every tenant lives in `database` today; when the registry names
  // a tenant's database (pooled by default, one of its own for a large customer), this is where its
  // pool of clients is picked.
  const clientsFor = (_owner: TenantContext) => tenantDbs;
  const pubsub = createTenantPubSub({ eventTarget: deps.eventTarget, bufferLimit: config.subscriptions.bufferLimit });

  // Heavy reads run on a worker thread with connections of its own: PostgreSQL only, since the
  // embedded database lives in this thread.
  const heavyLane =
    config.heavyQueries.cost > 0 && database.kind === 'postgres' && config.databaseUrl
      ? startHeavyLane({ config, databaseUrl: config.databaseUrl, logger })
      : undefined;

  const persistedOperations = {
    list: loadPersistedOperationList({ only: config.persistedOperationsOnly }),
    registered: deps.persistedDocuments ?? createMemoryDocumentStore(),
  };
  const authenticateFirst = useAuthenticateFirst({ resolveTenant, logger, graphqlEndpoint: GRAPHQL_ENDPOINT });
  const subscriptionSlots = createSubscriptionSlots(config.subscriptions.perTenant);

  const yoga = createGraphQLPipeline({
    config,
    logger,
    authenticateFirst,
    resolveForOperation,
    persistedOperations,
    subscriptionSlots,
    pubsub,
    graphiqlToken: deps.graphiqlToken,
    execution: [
      useTenantScope({
        lease: (owner) => clientsFor(owner).lease(owner),
        revocationOf: (context) => findRevocation(registry, context.tenant, context.tokenExpiresAt),
        recheckMs: config.subscriptions.recheckMs,
      }),
      ...(heavyLane ? [useHeavyLane({ run: (query) => heavyLane.run(query), cost: config.heavyQueries.cost })] : []),
    ],
  });

  /**
   * A websocket operation's tenant, resolved again from its connection's token: coded errors only,
   * because Yoga masks anything else the context factory throws as an unexpected error.
   */
  async function resolveForOperation(websocket: WebSocketInitialContext['websocket']) {
    try {
      return await resolveTenant({
        authorization: websocket.authorization,
        tenantHeader: websocket.tenantHeader,
        requestId: websocket.requestId,
      });
    } catch (error) {
      throw clientError(reportResolutionFailure(error, logger, { requestId: websocket.requestId, transport: 'websocket' }));
    }
  }

  // /readyz needs no token: however often it is asked, the database is asked at most once a second.
  let lastReadiness: { at: number; checks: Promise<Record<string, boolean>> } | undefined;
  const currentReadiness = () => {
    if (!lastReadiness || Date.now() - lastReadiness.at >= READINESS_REUSE_MS) {
      lastReadiness = { at: Date.now(), checks: readiness(database, deps.degradedWithout) };
    }
    return lastReadiness.checks;
  };

  const server = createServer(
    createRequestListener(
      yoga,
      async () => {
        const checks = await currentReadiness();
        return { ready: checks.database === true && checks.process === true, checks };
      },
      { graphiql: config.graphiql, corsOrigins: config.corsOrigins, logger },
    ),
  );

  // A client that trickles its headers or body holds a socket: give it a bounded time to finish
  // sending its request (responses, SSE streams included, are not limited by these).
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  const websockets = attachWebSocketServer({
    server,
    yoga,
    resolveTenant,
    registry,
    logger,
    limits: { ...config.subscriptions, maxMessageBytes: config.limits.maxBodyBytes },
    slots: subscriptionSlots,
    persistedOperations,
  });

  return {
    yoga,
    registry,
    databaseClients: tenantDbs,
    pubsub,
    server,
    start(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
      await heavyLane?.close();
      await yoga.dispose();
    },
  };
}

/** How long /readyz waits for the database before calling it unavailable. */
const READINESS_TIMEOUT_MS = 2_000;
/** How long one readiness answer serves every /readyz request. */
const READINESS_REUSE_MS = 1_000;

/** Whether each dependency answers now: the database within READINESS_TIMEOUT_MS, the others as they report. */
async function readiness(database: Database, others: Record<string, () => boolean> = {}): Promise<Record<string, boolean>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS);
  });
  const answered = database.sql.query('SELECT 1').then(
    () => true,
    () => false,
  );
  const databaseReady = await Promise.race([answered, timeout]);
  clearTimeout(timer);
  return {
    database: databaseReady,
    // After an uncaught exception the process carries on serving (main.ts), but its state is not
    // to be trusted: it reports itself unready so that an orchestrator replaces it.
    process: counterValue('uncaught_exception') === 0,
    ...Object.fromEntries(Object.entries(others).map(([name, ready]) => [name, ready()])),
  };
}
