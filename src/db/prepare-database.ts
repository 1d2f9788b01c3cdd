import { assertIsolationEnforced } from '../tenancy/isolation-check.js';
import type { Database } from './create-database.js';
import { migrate } from './migrator.js';
import { SHARED_TABLES, TENANT_ROLE } from './tenant-db.js';

/**
 * Brings the database to the code's schema and refuses to go on unless the database itself enforces
 * tenant isolation (RLS on every table, a tenant role that cannot bypass it).
 */
export async function prepareDatabase(database: Database): Promise<{ applied: string[] }> {
  const result = await migrate(database.sql);
  await assertIsolationEnforced(database.sql, { role: TENANT_ROLE, sharedTables: SHARED_TABLES });
  return result;
}
