import { getDatamodel } from '../generated/pothos-types.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { tenancyExtension } from '../tenancy/tenant-client.js';
import { TenantScope } from '../tenancy/tenant-scope.js';

/** The database role tenant statements run as (created by the first migration; no BYPASSRLS). */
export const TENANT_ROLE = 'tenantgraph_tenant';

/**
 * How this domain declares isolation. Every model with a `tenantId` is tenant-owned and scoped
 * automatically; the shared models say how a tenant sees them. A new model needs nothing here
 * unless it is shared — and the start-up check refuses a tenant table without FORCEd RLS.
 */
export const tenantScope = new TenantScope({
  datamodel: getDatamodel().datamodel,
  sharedModels: {
    Tenant: (tenantId) => ({ id: tenantId }),
    User: (tenantId) => ({ memberships: { some: { tenantId } } }),
  },
});

/** Tables shared across tenants: RLS-enabled for the tenant role, readable by the system path. */
export const SHARED_TABLES = ['tenants', 'users', 'memberships'] as const;

export function createTenantDb(prisma: PrismaClient) {
  return prisma.$extends(tenancyExtension({ scope: tenantScope, role: TENANT_ROLE }));
}

export type TenantDb = ReturnType<typeof createTenantDb>;
