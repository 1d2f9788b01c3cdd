import { getDatamodel } from '../generated/pothos-types.js';
import type { TenantSessionProbe } from '../tenancy/isolation-check.js';
import { tenantBoundAdapter } from '../tenancy/tenant-bound-adapter.js';
import { tenantClient } from '../tenancy/tenant-client.js';
import { TenantClients } from '../tenancy/tenant-clients.js';
import { runInTenant } from '../tenancy/tenant-context.js';
import { TenantScope } from '../tenancy/tenant-scope.js';
import type { Database } from './create-database.js';

/** The database role tenant statements run as (created by the first migration; no BYPASSRLS). */
export const TENANT_ROLE = 'tenantgraph_tenant';

/** The setting the row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

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

/**
 * A tenant's Prisma client: its connection sets the tenant and the tenant role on every statement
 * (row-level security), its queries are scoped to the tenant and refuse to run for another.
 */
export function createTenantDb(database: Pick<Database, 'connection' | 'newClient'>, tenantId: string) {
  const adapter = tenantBoundAdapter(database.connection, tenantId, { setting: TENANT_SETTING, role: TENANT_ROLE });
  return tenantClient(database.newClient(adapter), { scope: tenantScope, tenantId });
}

export type TenantDb = ReturnType<typeof createTenantDb>;

/** One statement through a fresh client of `tenantId`: who it ran as (the start-up check). */
export async function probeTenantSession(database: Pick<Database, 'connection' | 'newClient'>, tenantId: string) {
  const db = createTenantDb(database, tenantId);
  const context = { tenantId, tenantSlug: 'start-up-check', userId: '', role: 'VIEWER', requestId: 'start-up-check' };
  const [session] = await runInTenant(
    context,
    async () =>
      await db.$queryRaw<TenantSessionProbe[]>`SELECT current_user AS role, current_setting(${TENANT_SETTING}, true) AS tenant,
        current_setting('is_superuser') AS superuser`,
  );
  return session;
}

/** The tenant clients of one database, the most recently used `max` kept (about 0.8 MB of heap each). */
export function createTenantDbs(database: Pick<Database, 'connection' | 'newClient'>, max: number) {
  return new TenantClients((tenantId) => createTenantDb(database, tenantId), max);
}

export type TenantDbs = ReturnType<typeof createTenantDbs>;
