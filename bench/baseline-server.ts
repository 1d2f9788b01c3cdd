import { createServer } from 'node:http';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import type { Config } from '../src/config/config.js';
import type { Database } from '../src/db/create-database.js';
import { observeStatements } from '../src/db/observed-connection.js';
import { PreparedStatements } from '../src/db/prepared-statements.js';
import { createRegistrySource } from '../src/db/registry-source.js';
import type { TenantDb } from '../src/db/tenant-db.js';
import { createGraphQLPipeline, createRequestListener, GRAPHQL_ENDPOINT } from '../src/graphql-pipeline.js';
import { createLogger } from '../src/observability/logger.js';
import { createMemoryDocumentStore } from '../src/plugins/persisted-document-store.js';
import { useAuthenticateFirst } from '../src/plugins/use-authenticate-first.js';
import { loadPersistedOperationList } from '../src/plugins/use-persisted-operation-list.js';
import { useTenantScope } from '../src/plugins/use-tenant-scope.js';
import { createTenantPubSub } from '../src/pubsub/tenant-pubsub.js';
import { createSubscriptionSlots } from '../src/subscriptions/subscription-slots.js';
import { createTenantResolver } from '../src/tenancy/resolve-tenant.js';
import { TenantRegistry } from '../src/tenancy/tenant-registry.js';
import { listenOnLoopback } from './listen-on-loopback.js';

/**
 * The baseline the benchmark compares against: the server's own request pipeline
 * (src/graphql-pipeline.ts: request ids, authentication before the body is read, bounded caches,
 * CORS, the production-mode plugins, the persisted operation list, query and cost limits, error
 * masking, the operation log, the request scope) and its token/registry resolution, with the
 * tenancy layer removed — executions get the plain Prisma client (no tenant predicate, no tenant
 * settings, no role switch, so no RLS either: the connection's role bypasses it; no lease, no
 * heavy-query lane). Only the AsyncLocalStorage binding stays, because the DataLoaders check it.
 * What the two servers do differently is isolation, and nothing else.
 *
 * It lives in bench/ only and is never imported by the server: it answers across tenants.
 */
export async function startBaselineServer(deps: {
  config: Config;
  database: Database;
  verifier: TokenVerifier;
  /** PostgreSQL: the executions' statements kept prepared, as the server's are (see plainClient). */
  prepared?: { databaseUrl: string; poolSize: number; onStatement: (sql: string) => void };
}) {
  const { config } = deps;
  const registry = new TenantRegistry(createRegistrySource(deps.database.prisma), { ttlMs: config.registryTtlMs });
  const resolveTenant = createTenantResolver({ verifier: deps.verifier, registry, tenantClaim: config.jwt.tenantClaim });
  const plain = deps.prepared
    ? await plainClient(deps.database, deps.prepared)
    : { client: deps.database.prisma, async close() {} };
  const db = plain.client as unknown as TenantDb;
  const logger = createLogger('silent');
  const yoga = createGraphQLPipeline({
    config,
    logger,
    authenticateFirst: useAuthenticateFirst({ resolveTenant, logger, graphqlEndpoint: GRAPHQL_ENDPOINT }),
    resolveForOperation: async () => {
      throw new Error('the baseline serves no websockets');
    },
    persistedOperations: {
      list: loadPersistedOperationList({ only: config.persistedOperationsOnly }),
      registered: createMemoryDocumentStore(),
    },
    subscriptionSlots: createSubscriptionSlots(config.subscriptions.perTenant),
    pubsub: createTenantPubSub(),
    // The tenant binding the DataLoaders check, over the one plain client (no lease, no binding);
    // it has no subscriptions, so nothing to re-check.
    execution: [useTenantScope({ lease: async () => ({ client: db, release() {} }), revocationOf: async () => undefined })],
  });
  const ready = async () => ({ ready: true, checks: { database: true, process: true } });
  const served = await listenOnLoopback(
    createServer(createRequestListener(yoga, ready, { corsOrigins: config.corsOrigins, logger })),
  );
  return {
    ...served,
    async close() {
      await served.close();
      await plain.close();
    },
  };
}

/**
 * The plain client over a pool of its own whose statements PostgreSQL keeps prepared by name, as
 * it keeps the server's tenant statements (src/db/prepared-statements.ts, on a direct connection by
 * default): parsing and planning once per connection is the driver's saving, not isolation's, so
 * the baseline has it too. Its statements are counted like the server's.
 */
async function plainClient(database: Database, options: NonNullable<Parameters<typeof startBaselineServer>[0]['prepared']>) {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  // PrismaPg names a statement without knowing its connection: bounded by texts alone.
  const names = new PreparedStatements(true, 500, 500);
  const everyConnection = {};
  const adapter = new PrismaPg(pool, {
    statementNameGenerator: (query) => names.nameFor(query.sql, everyConnection) as string,
  });
  const connection = observeStatements(await adapter.connect(), options.onStatement);
  const client = database.newClient({
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    connect: async () => connection,
  });
  return {
    client,
    async close() {
      await client.$disconnect();
      await pool.end();
    },
  };
}
