import { assertIsolationEnforced, findTenantPathProblems, IsolationCheckError } from '../tenancy/isolation-check.js';
import type { Database } from './create-database.js';
import { assertMigrated, migrate } from './migrator.js';
import { createRegistrySource } from './registry-source.js';
import { probeTenantSession, SHARED_TABLES, TENANT_ROLE } from './tenant-db.js';

const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/**
 * Brings the database to the code's schema (or, with `migrate: false`, only checks read-only that
 * it is there: the server's role then needs no ownership) and refuses to go on unless the database itself enforces
 * tenant isolation (RLS on every table, a tenant role that cannot bypass it) and the tenant clients
 * actually run their statements as that role with their tenant set.
 */
export async function prepareDatabase(database: Database, options: { migrate?: boolean } = {}): Promise<{ applied: string[] }> {
  let result: { applied: string[] } = { applied: [] };
  if (options.migrate === false) await assertMigrated(database.sql);
  else result = await migrate(database.sql);
  await assertIsolationEnforced(database.sql, { role: TENANT_ROLE, sharedTables: SHARED_TABLES });
  const problems = await findTenantPathProblems((tenantId) => probeTenantSession(database, tenantId), { role: TENANT_ROLE });
  if (problems.length > 0) throw new IsolationCheckError(problems);
  // The lookup every request makes, once, as the server's own role: a role missing a grant on any
  // table of it fails here, at start, rather than answering every request UNAVAILABLE.
  await createRegistrySource(database.prisma).findAccess(NO_TENANT, { issuer: 'start-up-check', subject: 'start-up-check' });
  return result;
}
