import { afterEach, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../src/db/prepare-database.js';
import { probeTenantSession, SHARED_TABLES, TENANT_ROLE } from '../../src/db/tenant-db.js';
import {
  findIsolationProblems,
  findTenantPathProblems,
  IsolationCheckError,
  type TenantSessionProbe,
} from '../../src/tenancy/isolation-check.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.destroy();
  database = undefined;
});

const check = (db: TestDatabase) => findIsolationProblems(db.sql, { role: TENANT_ROLE, sharedTables: SHARED_TABLES });

describe('the start-up isolation check', () => {
  it('finds nothing wrong with the migrated schema', async () => {
    database = await createTestDatabase();
    expect(await check(database)).toEqual([]);
  });

  it('refuses a tenant table without FORCE, without RLS, or without a policy', async () => {
    database = await createTestDatabase();
    await database.sql.exec('ALTER TABLE comments NO FORCE ROW LEVEL SECURITY');
    await database.sql.exec('ALTER TABLE projects DISABLE ROW LEVEL SECURITY');
    await database.sql.exec('DROP POLICY tenant_isolation ON tasks');
    expect(await check(database)).toEqual(
      expect.arrayContaining([
        'tenant-owned table comments does not FORCE ROW LEVEL SECURITY',
        'table projects does not ENABLE ROW LEVEL SECURITY',
        'table tasks has no RLS policy',
      ]),
    );
  });

  it('refuses a new tenant table that forgot its RLS, so the server will not start', async () => {
    database = await createTestDatabase();
    await database.sql.exec('CREATE TABLE unguarded_notes (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, body text)');
    await expect(prepareDatabase(database)).rejects.toBeInstanceOf(IsolationCheckError);
    await expect(prepareDatabase(database)).rejects.toThrow(/unguarded_notes does not ENABLE ROW LEVEL SECURITY/);
  });

  it('refuses a policy that lets every tenant see every row', async () => {
    database = await createTestDatabase();
    await database.sql.exec('CREATE POLICY everyone ON projects USING (true)');
    await database.sql.query("INSERT INTO tenants (id, slug, name) VALUES ('00000000-0000-4000-8000-000000000001', 'x', 'x')");
    await database.sql.query("INSERT INTO projects (tenant_id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'p')");
    expect(await check(database)).toContain('table projects shows rows to a tenant that does not exist');
  });

  it('refuses a tenant role that can bypass RLS', async () => {
    database = await createTestDatabase();
    // Roles are cluster-wide: a role of the test's own, so other suites keep the real one intact.
    const role = `tg_bypass_${Math.random().toString(36).slice(2, 10)}`;
    await database.sql.exec(`CREATE ROLE ${role} NOLOGIN BYPASSRLS`);
    try {
      const problems = await findIsolationProblems(database.sql, { role, sharedTables: SHARED_TABLES });
      expect(problems).toContain(`role ${role} has BYPASSRLS`);
    } finally {
      await database.sql.exec(`DROP ROLE ${role}`);
    }
  });

  it('checks the tenant clients themselves: their statements run as the tenant role with their tenant set', async () => {
    database = await createTestDatabase();
    const on = database;
    expect(await findTenantPathProblems((tenantId) => probeTenantSession(on, tenantId), { role: TENANT_ROLE })).toEqual([]);
    // A client that forgot the settings: the statement runs as the connection's own role.
    const unscoped = async () =>
      (
        await on.prisma.$queryRaw<
          TenantSessionProbe[]
        >`SELECT current_user AS role, current_setting('app.tenant_id', true) AS tenant,
          current_setting('is_superuser') AS superuser`
      )[0];
    const problems = await findTenantPathProblems(unscoped, { role: TENANT_ROLE });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tenant statements run as .+, not tenantgraph_tenant$/),
        'tenant statements do not carry their tenant setting',
      ]),
    );
  });
});
