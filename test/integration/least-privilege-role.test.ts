import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevSigningKey } from '../../src/auth/dev-signing-key.js';
import { issueDevToken } from '../../src/auth/issue-token.js';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/create-database.js';
import { readMigrations } from '../../src/db/migrator.js';
import { createTenantFixture } from '../helpers/fixtures.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { runServerUntilExit, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { testDatabaseUrl } from '../helpers/test-database.js';

/** The README's SQL for the roles, statement by statement (CREATE DATABASE cannot share a transaction). */
async function readmeRoleStatements(
  marker: 'roles-before-migrate' | 'roles-in-database' | 'roles-after-migrate',
): Promise<string[]> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = new RegExp(`<!-- ${marker}:[^\\n]*-->\\n\`\`\`sql\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  if (!block) throw new Error(`the README has no ${marker} block`);
  return block
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean);
}

async function run(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

const urlOf = (base: string, user: string, database: string) => {
  const url = new URL(base);
  url.username = user;
  url.pathname = `/${database}`;
  return url.toString();
};

const NOT_MIGRATED = { NODE_ENV: 'production' };

// PostgreSQL's own roles and grants: the PostgreSQL pass runs these, on private instances of their own.
describe.runIf(testDatabaseUrl)('the server on a role that owns nothing, the owner migrating apart (README roles)', () => {
  let postgres: PrivatePostgres;
  let ownerUrl: string;
  let appUrl: string;
  let dataDir: string;
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    await run(postgres.url, await readmeRoleStatements('roles-before-migrate'));
    const superuserUrl = urlOf(postgres.url, 'postgres', 'tenantgraph');
    // PostgreSQL 14 and older as the README's SQL finds them: schema public the superuser's, and
    // every role allowed to create in it (15 changed both; the SQL must hold on either).
    await run(superuserUrl, ['ALTER SCHEMA public OWNER TO postgres', 'GRANT CREATE ON SCHEMA public TO PUBLIC']);
    await run(superuserUrl, await readmeRoleStatements('roles-in-database'));
    ownerUrl = urlOf(postgres.url, 'tenantgraph_owner', 'tenantgraph');
    appUrl = urlOf(postgres.url, 'tenantgraph_app', 'tenantgraph');
    dataDir = await mkdtemp(join(tmpdir(), 'tg-roles-'));
  });
  afterAll(async () => {
    await postgres?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start on an unmigrated database, naming every missing migration, in one line', async () => {
    const result = await runServerUntilExit({ ...NOT_MIGRATED, DATABASE_URL: appUrl, DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const names = (await readMigrations()).map((migration) => migration.name);
    expect(lines[0]).toContain(`lacks migrations ${names.join(', ')}`);
    expect(lines[0]).toContain('npm run migrate');
  });

  it('a database that does not exist is not retried: it will not fix itself', async () => {
    const started = Date.now();
    const result = await runServerUntilExit({
      ...NOT_MIGRATED,
      DATABASE_URL: urlOf(postgres.url, 'tenantgraph_app', 'no_such_database'),
      DATABASE_START_TIMEOUT_MS: '20000',
      DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^tenantgraph: DATABASE_URL: cannot use PostgreSQL at 127\.0\.0\.1:\d+\/no_such_database: database "no_such_database" does not exist$/m,
    );
    expect(result.stdout).not.toContain('retrying');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('asked to migrate as that role, refuses clearly: the owner migrates', async () => {
    const result = await runServerUntilExit({
      ...NOT_MIGRATED,
      DATABASE_URL: appUrl,
      DATA_DIR: dataDir,
      MIGRATE_ON_START: 'true',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^tenantgraph: DATABASE_URL: permission denied for schema public; migrations need the schema owner/,
    );
  });

  describe('once `npm run migrate` ran as the owner', () => {
    beforeAll(async () => {
      const migrated = await runServerUntilExit({ DIRECT_DATABASE_URL: ownerUrl }, { script: 'src/cli/migrate.ts' });
      expect(migrated.stderr).toBe('');
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/^applied to 127\.0\.0\.1:\d+\/tenantgraph: 20261122000000_init, /);
    });

    it('refuses in one line naming DATABASE_URL while the role lacks the grant', async () => {
      const result = await runServerUntilExit({ ...NOT_MIGRATED, DATABASE_URL: appUrl, DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /^tenantgraph: DATABASE_URL: permission denied for table _tenantgraph_migrations; grant tenantgraph_server/,
      );
    });

    describe('and the README grant', () => {
      let server: ServerProcess;
      let app: Database;
      beforeAll(async () => {
        await run(ownerUrl, await readmeRoleStatements('roles-after-migrate'));
        server = await startServerProcess({ DATABASE_URL: appUrl, DATA_DIR: dataDir });
        app = await createDatabase({ databaseUrl: appUrl, poolSize: 2 });
      });
      afterAll(async () => {
        await server?.stop();
        await app?.close();
      });

      it('a second run finds nothing to apply', async () => {
        const again = await runServerUntilExit({ DATABASE_URL: ownerUrl }, { script: 'src/cli/migrate.ts' });
        expect(again.code).toBe(0);
        expect(again.stdout).toMatch(/is up to date/);
      });

      it('the runtime role owns nothing and cannot bypass RLS, and the server started on it', async () => {
        const [role] = await app.sql.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
          `SELECT rolsuper, rolbypassrls,
                  (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) + (SELECT count(*)::int FROM pg_namespace WHERE nspowner = r.oid) AS owned
             FROM pg_roles r WHERE rolname = current_user`,
        );
        expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
        expect(server.logs.find((line) => line.msg === 'database ready')).toMatchObject({
          database: 'postgres',
          migrated: false,
        });
        await expect(app.sql.query('CREATE TABLE intruder (id int)')).rejects.toThrow(/permission denied/);
      });

      it('serves tenants: registry, administration and tenant statements all work as that role', async () => {
        // The fixtures are written through the runtime role too: the system path for the tenant and
        // its members, a tenant client for its projects and tasks.
        const tenant = await createTenantFixture(app, { projects: 1, tasksPerProject: 2 });
        const other = await createTenantFixture(app, { projects: 1, tasksPerProject: 1 });
        const key = await loadOrCreateDevSigningKey(dataDir);
        const token = await issueDevToken(key, {
          ...loadConfig({}).jwt,
          userId: tenant.owner.id,
          tenant: tenant.slug,
          ttl: '1h',
        });
        const ask = async (query: string) => {
          const response = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query }),
          });
          return (await response.json()) as { data?: Record<string, never>; errors?: unknown[] };
        };
        const created = await ask('mutation { createProject(input: { name: "Least privilege" }) { name } }');
        expect(created.errors).toBeUndefined();
        const read = await ask('{ viewer { tenant { slug } } projects(first: 10) { totalCount edges { node { name } } } }');
        expect(read.errors).toBeUndefined();
        expect(read.data).toMatchObject({ viewer: { tenant: { slug: tenant.slug } }, projects: { totalCount: 2 } });
        expect(JSON.stringify(read.data)).not.toContain(other.slug);
      });
    });
  });
});

describe.runIf(testDatabaseUrl)('SEED_DEMO on PostgreSQL', () => {
  let postgres: PrivatePostgres;
  let url: string;
  let dataDir: string;
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    await run(postgres.url, ['CREATE DATABASE demo']);
    url = urlOf(postgres.url, 'postgres', 'demo');
    dataDir = await mkdtemp(join(tmpdir(), 'tg-seed-'));
  });
  afterAll(async () => {
    await postgres?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const DEVELOPMENT = { NODE_ENV: 'development', SEED_DEMO: 'true' };

  it('seeds an empty database once, and the printed demo token works', async () => {
    const first = await startServerProcess({ ...DEVELOPMENT, DATABASE_URL: url, DATA_DIR: dataDir });
    let token: string | undefined;
    try {
      expect(first.logs.some((line) => line.msg === 'seeded demo tenants acme and globex')).toBe(true);
      // The tokens are printed around the 'listening' line the start waits for, not always before it.
      await expect.poll(() => /\(OWNER of acme\):\n\s+(\S+)/.exec(first.stdout())?.[1], { timeout: 10_000 }).toBeDefined();
      token = /\(OWNER of acme\):\n\s+(\S+)/.exec(first.stdout())?.[1];
      const response = await fetch(first.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { tenant { slug } role } projects(first: 5) { totalCount } }' }),
      });
      expect(await response.json()).toEqual({
        data: { viewer: { tenant: { slug: 'acme' }, role: 'OWNER' }, projects: { totalCount: 2 } },
      });
    } finally {
      await first.stop();
    }
    const second = await startServerProcess({ ...DEVELOPMENT, DATABASE_URL: url, DATA_DIR: dataDir });
    try {
      expect(second.logs.some((line) => line.msg === 'seeded demo tenants acme and globex')).toBe(false);
    } finally {
      await second.stop();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ tenants: number }>('SELECT count(*)::int AS tenants FROM tenants');
    await client.end();
    expect(rows[0]?.tenants).toBe(2);
  });
});
