import { randomUUID } from 'node:crypto';

/** What the check needs of the database: raw SQL as the connection's own role, and one session. */
interface SqlRunner {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  withSession<T>(
    work: (session: Omit<SqlRunner, 'withSession'> & { exec(script: string): Promise<void> }) => Promise<T>,
  ): Promise<T>;
}

export interface IsolationCheckOptions {
  /** The role tenant transactions switch to. */
  role: string;
  /** Column that marks a tenant-owned table. */
  tenantColumn?: string;
  /** Tables shared across tenants: RLS enabled with a policy, but not FORCEd (the system path reads them). */
  sharedTables: readonly string[];
  /** Setting the policies must read. */
  setting?: string;
  schema?: string;
}

export class IsolationCheckError extends Error {
  override name = 'IsolationCheckError';
  constructor(readonly problems: string[]) {
    super(`refusing to start: tenant isolation is not enforced by the database:\n  - ${problems.join('\n  - ')}`);
  }
}

const IGNORED_TABLES = new Set(['_tenantgraph_migrations']);

/**
 * The start-up self-check: the tenant role cannot bypass RLS and the connection can switch to it,
 * every table has RLS with a policy on the tenant setting, every tenant-owned table FORCEs it, and a
 * transaction for an unknown tenant sees no row at all. Returns the problems found (empty when sound).
 */
export async function findIsolationProblems(sql: SqlRunner, options: IsolationCheckOptions): Promise<string[]> {
  const schema = options.schema ?? 'public';
  const tenantColumn = options.tenantColumn ?? 'tenant_id';
  const setting = options.setting ?? 'app.tenant_id';
  const shared = new Set(options.sharedTables);
  const problems: string[] = [];

  const roles = await sql.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1',
    [options.role],
  );
  const role = roles[0];
  if (!role) problems.push(`role ${options.role} does not exist (have the migrations run?)`);
  else {
    if (role.rolsuper) problems.push(`role ${options.role} is a superuser, which bypasses RLS`);
    if (role.rolbypassrls) problems.push(`role ${options.role} has BYPASSRLS`);
  }

  const tables = await sql.query<{
    table_name: string;
    rls: boolean;
    forced: boolean;
    owner: string;
    has_tenant_column: boolean;
    policies: number;
    policies_on_setting: number;
  }>(
    `SELECT c.relname AS table_name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            pg_get_userbyid(c.relowner) AS owner,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped) AS has_tenant_column,
            (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) AS policies,
            (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname
               AND (p.qual LIKE '%' || $3 || '%')) AS policies_on_setting
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`,
    [schema, tenantColumn, setting],
  );
  for (const table of tables) {
    if (IGNORED_TABLES.has(table.table_name)) continue;
    const name = table.table_name;
    if (table.owner === options.role) problems.push(`table ${name} is owned by ${options.role}; owners bypass RLS`);
    if (!table.rls) problems.push(`table ${name} does not ENABLE ROW LEVEL SECURITY`);
    if (table.policies === 0) problems.push(`table ${name} has no RLS policy`);
    else if (table.policies_on_setting === 0) problems.push(`table ${name} has no RLS policy on ${setting}`);
    if (table.has_tenant_column && !shared.has(name) && !table.forced) {
      problems.push(`tenant-owned table ${name} does not FORCE ROW LEVEL SECURITY`);
    }
  }
  if (problems.length > 0 || !role) return problems;

  // Functional probe: as the tenant role, for a tenant that cannot exist, every table must look empty.
  const probeTenant = randomUUID();
  await sql.withSession(async (session) => {
    await session.exec('BEGIN');
    try {
      await session.query('SELECT set_config($1, $2, true), set_config($3, $4, true)', [
        setting,
        probeTenant,
        'role',
        options.role,
      ]);
      const [who] = await session.query<{ current_user: string; is_superuser: string }>(
        "SELECT current_user, current_setting('is_superuser') AS is_superuser",
      );
      if (who?.current_user !== options.role || who.is_superuser !== 'off') {
        problems.push(`could not switch to role ${options.role} (running as ${who?.current_user})`);
        return;
      }
      for (const table of tables) {
        if (IGNORED_TABLES.has(table.table_name)) continue;
        // A table the role may not read at all shows it nothing (RLS and its policy stay required
        // above, for the day it is granted).
        const [readable] = await session.query<{ granted: boolean }>(
          `SELECT has_table_privilege(current_user, $1, 'SELECT') AS granted`,
          [`${schema}.${quoteIdent(table.table_name)}`],
        );
        if (!readable?.granted) continue;
        const [row] = await session.query<{ visible: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM ${schema}.${quoteIdent(table.table_name)}) AS visible`,
        );
        if (row?.visible) problems.push(`table ${table.table_name} shows rows to a tenant that does not exist`);
      }
    } catch (error) {
      problems.push(`tenant role probe failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await session.exec('ROLLBACK');
    }
  });
  return problems;
}

/** What a statement sent through a tenant's client found itself running as. */
export interface TenantSessionProbe {
  role: string;
  tenant: string;
  superuser: string;
}

/**
 * The start-up check of the path resolvers use, not only of the database: one statement through a
 * tenant's client, for a tenant that cannot exist, must run as the tenant role (no superuser) with
 * that tenant set. `probe` runs `SELECT current_user AS role, current_setting(<setting>, true) AS
 * tenant, current_setting('is_superuser') AS superuser` that way.
 */
export async function findTenantPathProblems(
  probe: (tenantId: string) => Promise<TenantSessionProbe | undefined>,
  options: Pick<IsolationCheckOptions, 'role'>,
): Promise<string[]> {
  const tenantId = randomUUID();
  const session = await probe(tenantId);
  const problems: string[] = [];
  if (session?.role !== options.role) problems.push(`tenant statements run as ${session?.role}, not ${options.role}`);
  if (session?.superuser !== 'off') problems.push('tenant statements run as a superuser');
  if (session?.tenant !== tenantId) problems.push('tenant statements do not carry their tenant setting');
  return problems;
}

export async function assertIsolationEnforced(sql: SqlRunner, options: IsolationCheckOptions): Promise<void> {
  const problems = await findIsolationProblems(sql, options);
  if (problems.length > 0) throw new IsolationCheckError(problems);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
