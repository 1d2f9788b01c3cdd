import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { mergeTenantBegin } from './merged-tenant-begin.js';
import { createPgRunner } from './pg-runner.js';
import { createPgliteRunner } from './pglite-runner.js';
import type { SqlRunner } from './sql-runner.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The connection to one database: the trusted system Prisma client and a raw SQL runner. */
export interface Database {
  kind: DatabaseKind;
  /**
   * Runs as the connection's own role. Only the tenant registry, administration and the tenancy
   * core's RLS wrapper use it directly; resolvers get the tenant-scoped client instead.
   */
  prisma: PrismaClient;
  sql: SqlRunner;
  /** Where the embedded database lives; undefined for a server or an in-memory database. */
  dataDir: string | undefined;
  close(): Promise<void>;
}

export type DatabaseOptions = (
  | { databaseUrl: string; poolSize?: number }
  | { dataDir: string }
  /** A throw-away embedded database (tests). */
  | { inMemory: true }
) & {
  /** Called for every SQL statement Prisma sends (tests and benchmarks count them). */
  onStatement?: (sql: string) => void;
};

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if ('databaseUrl' in options) return connectPostgres(options.databaseUrl, options.poolSize ?? 10, options.onStatement);
  if ('dataDir' in options) return openEmbedded(options.dataDir, options.onStatement);
  return openPglite(new PGlite(), undefined, async () => {}, options.onStatement);
}

/**
 * Every tenant statement is a short transaction, so under a burst they queue for a pooled
 * connection. Prisma's default two-second wait turns that queue into errors; a burst should
 * slow down, not fail.
 */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 15_000 };

function createPrisma(adapter: PrismaPg | PrismaPGlite, onStatement?: (sql: string) => void) {
  if (!onStatement) return new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS });
  const prisma = new PrismaClient({
    adapter,
    transactionOptions: TRANSACTION_OPTIONS,
    log: [{ emit: 'event', level: 'query' }],
  });
  prisma.$on('query', (event) => onStatement(event.query));
  return prisma as unknown as PrismaClient;
}

async function connectPostgres(databaseUrl: string, poolSize: number, onStatement?: (sql: string) => void): Promise<Database> {
  // BEGIN and the tenant settings ride with each tenant transaction's first statement.
  const pool = mergeTenantBegin(new pg.Pool({ connectionString: databaseUrl, max: poolSize }));
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});
  const prisma = createPrisma(new PrismaPg(pool), onStatement);
  return {
    kind: 'postgres',
    prisma,
    sql: createPgRunner(pool),
    dataDir: undefined,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openEmbedded(dataDir: string, onStatement?: (sql: string) => void): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  // PGlite is single-process: a second process opening the same folder would corrupt it.
  const lock = await acquireDataDirLock(dataDir);
  try {
    const pglite = await PGlite.create({ dataDir: join(dataDir, 'pglite') });
    return openPglite(pglite, dataDir, () => lock.release(), onStatement);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function openPglite(
  pglite: PGlite,
  dataDir: string | undefined,
  release: () => Promise<void>,
  onStatement?: (sql: string) => void,
): Promise<Database> {
  await pglite.waitReady;
  const prisma = createPrisma(new PrismaPGlite(pglite), onStatement);
  return {
    kind: 'pglite',
    prisma,
    sql: createPgliteRunner(pglite),
    dataDir,
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await release();
    },
  };
}
