import { getDatamodel } from '../generated/pothos-types.js';
import type { TenantSessionProbe } from '../tenancy/isolation-check.js';
import { LeasedClients } from '../tenancy/leased-clients.js';
import { TenantBinding } from '../tenancy/tenant-binding.js';
import { tenantBoundAdapter } from '../tenancy/tenant-bound-adapter.js';
import { tenantClient } from '../tenancy/tenant-client.js';
import { runInTenant } from '../tenancy/tenant-context.js';
import { TenantScope } from '../tenancy/tenant-scope.js';
import type { Database } from './create-database.js';
import { nestedCursorsAsKeysets } from './nested-cursors.js';

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
    // Read by the registry only; the tenant role is granted nothing on it.
    UserIdentity: (tenantId) => ({ user: { memberships: { some: { tenantId } } } }),
  },
});

/** Tables shared across tenants: RLS-enabled for the tenant role, readable by the system path. */
export const SHARED_TABLES = ['tenants', 'users', 'memberships'] as const;

/**
 * A tenant client over `binding`: its connection sets the bound tenant and the tenant role on every
 * statement (row-level security), its queries are scoped to that tenant and refuse to run for any
 * execution the binding does not admit.
 */
function boundTenantDb(database: Pick<Database, 'connection' | 'newClient'>, binding: TenantBinding) {
  const adapter = tenantBoundAdapter(database.connection, binding, { setting: TENANT_SETTING, role: TENANT_ROLE });
  return nestedCursorsAsKeysets(
    tenantClient(database.newClient(adapter), { scope: tenantScope, binding }),
    getDatamodel().datamodel,
  );
}

export type TenantDb = ReturnType<typeof boundTenantDb>;

/**
 * A client dedicated to one tenant for its whole life, for any execution of that tenant: seeding,
 * tests, the start-up check. Requests lease theirs from `createTenantDbs` instead.
 */
export function createTenantDb(database: Pick<Database, 'connection' | 'newClient'>, tenantId: string): TenantDb {
  const binding = new TenantBinding();
  binding.bind(tenantId);
  return boundTenantDb(database, binding);
}

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

/**
 * The tenant clients of one database, leased to one execution at a time: `size` at most (about
 * 0.8 MB of heap each), however many tenants there are.
 */
export function createTenantDbs(database: Pick<Database, 'connection' | 'newClient'>, options: { size: number; waitMs: number }) {
  return new LeasedClients((binding) => boundTenantDb(database, binding), options);
}

export type TenantDbs = ReturnType<typeof createTenantDbs>;
