import { createServer } from 'node:http';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import type { Config } from '../src/config/config.js';
import type { Database } from '../src/db/create-database.js';
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
export async function startBaselineServer(deps: { config: Config; database: Database; verifier: TokenVerifier }) {
  const { config } = deps;
  const registry = new TenantRegistry(createRegistrySource(deps.database.prisma), { ttlMs: config.registryTtlMs });
  const resolveTenant = createTenantResolver({ verifier: deps.verifier, registry, tenantClaim: config.jwt.tenantClaim });
  const db = deps.database.prisma as unknown as TenantDb;
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
  return listenOnLoopback(createServer(createRequestListener(yoga, ready)));
}
