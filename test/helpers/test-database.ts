import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/create-database.js';
import { prepareDatabase } from '../../src/db/prepare-database.js';

/** Which database the suite runs on: PGlite unless TEST_DATABASE_URL names a PostgreSQL server. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;
export const testDatabaseKind = testDatabaseUrl ? 'postgres' : 'pglite';

export interface TestDatabase extends Database {
  /** The PostgreSQL URL of this database; undefined on PGlite. */
  url: string | undefined;
  /** SQL statements Prisma has sent so far. */
  statements: string[];
  /** Drops the database (PostgreSQL) or closes it (PGlite). */
  destroy(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: an in-memory PGlite, or a new database created on the
 * TEST_DATABASE_URL server (and dropped afterwards). `prepare` migrates and runs the start-up check.
 */
export async function createTestDatabase(options: { prepare?: boolean } = {}): Promise<TestDatabase> {
  const statements: string[] = [];
  const onStatement = (sql: string) => statements.push(sql);
  let database: Database;
  let drop = async () => {};
  let databaseUrl: string | undefined;
  if (testDatabaseUrl) {
    const name = `tg_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(testDatabaseUrl, `CREATE DATABASE ${name}`);
    const url = new URL(testDatabaseUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    database = await createDatabase({ databaseUrl, poolSize: 5, onStatement });
    drop = () => adminQuery(testDatabaseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else {
    database = await createDatabase({ inMemory: true, onStatement });
  }
  if (options.prepare !== false) await prepareDatabase(database);
  return {
    ...database,
    url: databaseUrl,
    statements,
    async destroy() {
      await database.close();
      await drop();
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
