import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import type { Config } from '../src/config/config.js';
import type { Database } from '../src/db/create-database.js';
import { createRegistrySource } from '../src/db/registry-source.js';
import type { TenantDb } from '../src/db/tenant-db.js';
import { createLogger } from '../src/observability/logger.js';
import { boundedDocumentCache } from '../src/plugins/bounded-document-cache.js';
import { createErrorMask } from '../src/plugins/mask-error.js';
import { useAuthenticateFirst } from '../src/plugins/use-authenticate-first.js';
import { useBodySizeLimit } from '../src/plugins/use-body-size-limit.js';
import { useOperationLog } from '../src/plugins/use-operation-log.js';
import { loadPersistedOperationList, usePersistedOperationList } from '../src/plugins/use-persisted-operation-list.js';
import { useQueryLimits } from '../src/plugins/use-query-limits.js';
import { useRequestId } from '../src/plugins/use-request-id.js';
import { useTenantScope } from '../src/plugins/use-tenant-scope.js';
import { createTenantPubSub } from '../src/pubsub/tenant-pubsub.js';
import { createRequestContext, type GraphQLContext } from '../src/schema/context.js';
import { schema } from '../src/schema/index.js';
import { createTenantResolver } from '../src/tenancy/resolve-tenant.js';
import { TenantRegistry } from '../src/tenancy/tenant-registry.js';
import { listenOnLoopback } from './listen-on-loopback.js';

/**
 * The baseline the benchmark compares against: the same schema, resolvers, token/registry
 * resolution and request plugins as the server (src/app.ts: request ids, authentication before the
 * body is read, bounded caches, the persisted operation list, query and cost limits, error masking,
 * the operation log), with the tenancy layer removed — resolvers
 * get the plain Prisma client (no tenant predicate, no tenant settings, no role switch, so no RLS
 * either: the connection's role bypasses it). Only the AsyncLocalStorage binding stays, because the
 * DataLoaders check it. What the two servers do differently is isolation, and nothing else.
 *
 * It lives in bench/ only and is never imported by the server: it answers across tenants.
 */
export async function startBaselineServer(deps: { config: Config; database: Database; verifier: TokenVerifier }) {
  const registry = new TenantRegistry(createRegistrySource(deps.database.prisma), { ttlMs: deps.config.registryTtlMs });
  const resolveTenant = createTenantResolver({ verifier: deps.verifier, registry, tenantClaim: deps.config.jwt.tenantClaim });
  const db = deps.database.prisma as unknown as TenantDb;
  const pubsub = createTenantPubSub();
  const logger = createLogger('silent');
  const authenticateFirst = useAuthenticateFirst({ resolveTenant, logger, graphqlEndpoint: '/graphql' });
  const { limits } = deps.config;
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    maxRequestBodySize: false,
    parserAndValidationCache: boundedDocumentCache(),
    logging: false,
    landingPage: false,
    maskedErrors: { maskError: createErrorMask(logger) },
    plugins: [
      useRequestId(),
      authenticateFirst.plugin,
      useBodySizeLimit(limits.maxBodyBytes),
      usePersistedOperationList(loadPersistedOperationList({ only: deps.config.persistedOperationsOnly })),
      useQueryLimits(limits),
      // The tenant binding the DataLoaders check, over the one plain client (no lease, no binding);
      // it has no subscriptions, so nothing to re-check.
      useTenantScope({ lease: async () => ({ client: db, release() {} }), revocationOf: async () => undefined }),
      useOperationLog(logger),
    ],
    context: async ({ request }) => {
      const resolved = authenticateFirst.resolvedOf(request);
      if (!resolved) throw new Error('no resolved tenant');
      return createRequestContext(resolved, { pubsub, maxCost: limits.maxCost });
    },
  });
  return listenOnLoopback(createServer((request, response) => void yoga(request, response)));
}
