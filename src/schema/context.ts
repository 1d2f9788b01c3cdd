import type { TenantDb } from '../db/tenant-db.js';
import type { Loaders } from '../loaders/create-loaders.js';
import type { TenantContext } from '../tenancy/tenant-context.js';

/**
 * What every resolver receives. Built once per request by the context factory after the tenant is
 * resolved; resolvers never take a tenant argument and never see the raw request.
 */
export interface GraphQLContext {
  /** The resolved caller: tenant, user, role, request id. Also bound to AsyncLocalStorage. */
  tenant: TenantContext;
  /** The tenant-scoped Prisma client (scoped predicates + RLS transaction on every statement). */
  db: TenantDb;
  /** Per-request, tenant-keyed DataLoaders. */
  loaders: Loaders;
}
