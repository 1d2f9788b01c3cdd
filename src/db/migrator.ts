import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlRunner, SqlSession } from './sql-runner.js';

export const defaultMigrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Any constant works; it only has to be the same for every instance of this app.
const MIGRATION_LOCK_KEY = 7_406_215_530;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads `<dir>/<timestamp>_<name>/migration.sql` in name order. */
export async function readMigrations(dir = defaultMigrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory() && /^\d{14}_[a-z0-9_]+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations, each in its own transaction, under a session advisory lock so that
 * instances starting together apply each migration once. An applied migration whose file changed,
 * or that is no longer on disk, stops everything: the database would not be what the code expects.
 */
export async function migrate(
  runner: SqlRunner,
  migrations: Migration[] | string = defaultMigrationsDir,
): Promise<{ applied: string[] }> {
  const wanted = typeof migrations === 'string' ? await readMigrations(migrations) : migrations;
  return runner.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Only when missing: CREATE … IF NOT EXISTS still needs CREATE on the schema, which a
      // least-privilege role lacks, and finding nothing to apply needs no more than reading.
      const [bookkeeping] = await session.query<{ exists: boolean }>(
        "SELECT to_regclass('_tenantgraph_migrations') IS NOT NULL AS exists",
      );
      if (!bookkeeping?.exists)
        await session.exec(`CREATE TABLE IF NOT EXISTS _tenantgraph_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      await verifyApplied(session, wanted);
      const appliedNames = new Set(
        (await session.query<{ name: string }>('SELECT name FROM _tenantgraph_migrations')).map((row) => row.name),
      );
      const applied: string[] = [];
      for (const migration of wanted) {
        if (appliedNames.has(migration.name)) continue;
        await applyOne(session, migration);
        applied.push(migration.name);
      }
      return { applied };
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

/**
 * The read-only check a server makes when it does not migrate: every migration of the code is
 * applied, unchanged, and nothing else is. Needs only SELECT on the bookkeeping table, so the
 * server's role need not own the schema. Throws a MigrationError naming what is missing.
 */
export async function assertMigrated(
  runner: Pick<SqlRunner, 'query'>,
  migrations: Migration[] | string = defaultMigrationsDir,
): Promise<void> {
  const wanted = typeof migrations === 'string' ? await readMigrations(migrations) : migrations;
  const [table] = await runner.query<{ exists: boolean }>("SELECT to_regclass('_tenantgraph_migrations') IS NOT NULL AS exists");
  if (table?.exists) await verifyApplied(runner, wanted);
  const appliedNames = new Set(
    table?.exists
      ? (await runner.query<{ name: string }>('SELECT name FROM _tenantgraph_migrations')).map((row) => row.name)
      : [],
  );
  const missing = wanted.filter((migration) => !appliedNames.has(migration.name)).map((migration) => migration.name);
  if (missing.length > 0) {
    throw new MigrationError(
      `refusing to start: the database lacks migration${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
        'run `npm run migrate` as the schema owner (DIRECT_DATABASE_URL, else DATABASE_URL), or set MIGRATE_ON_START=true',
    );
  }
}

async function verifyApplied(session: Pick<SqlSession, 'query'>, wanted: Migration[]): Promise<void> {
  const rows = await session.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM _tenantgraph_migrations ORDER BY name',
  );
  const byName = new Map(wanted.map((migration) => [migration.name, migration]));
  for (const row of rows) {
    const migration = byName.get(row.name);
    if (!migration) {
      throw new MigrationError(`migration ${row.name} is applied to the database but missing from the code`);
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(`migration ${row.name} was changed after it was applied (checksum mismatch)`);
    }
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query('INSERT INTO _tenantgraph_migrations (name, checksum) VALUES ($1, $2)', [
      migration.name,
      migration.checksum,
    ]);
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${reason}`);
  }
}
