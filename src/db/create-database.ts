import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { increment } from '../observability/metrics.js';
import type { SharedConnection } from '../tenancy/tenant-bound-adapter.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { mergeTenantBegin } from './merged-tenant-begin.js';
import { observeStatements } from './observed-connection.js';
import { createPgRunner } from './pg-runner.js';
import { pgStatementsWithSettings } from './pg-tenant-statements.js';
import { createPgliteRunner } from './pglite-runner.js';
import { PreparedStatements } from './prepared-statements.js';
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
  /** The one driver connection (pool) every Prisma client of this database shares. */
  connection: SharedConnection;
  /** A Prisma client over a view of the shared connection (the tenant clients). */
  newClient(adapter: SqlDriverAdapterFactory): PrismaClient;
  /**
   * Raw SQL as the connection's own role: statements through the pool, sessions (migrations,
   * advisory locks) on the direct connection when one is configured.
   */
  sql: SqlRunner;
  /** In-process notifications (the embedded database only; PostgreSQL is listened to over its own connection). */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Where the embedded database lives; undefined for a server or an in-memory database. */
  dataDir: string | undefined;
  close(): Promise<void>;
}

export type DatabaseOptions = (
  | {
      databaseUrl: string;
      /**
       * Where sessions go when `databaseUrl` is a transaction pooler (PgBouncer, Supavisor, RDS
       * Proxy), which keeps no session from one transaction to the next: migrations and their
       * advisory lock. Requests never need one.
       */
      directDatabaseUrl?: string;
      poolSize?: number;
      /**
       * Keep tenant statements prepared by name on each connection (src/db/prepared-statements.ts):
       * on by default; off behind a transaction pooler that does not keep them.
       */
      preparedStatements?: boolean;
      /** Called once if a statement's name proved missing on its connection, and naming was turned off. */
      onPreparedStatementsDisabled?: (error: Error) => void;
    }
  | { dataDir: string }
  /** A throw-away embedded database (tests). */
  | { inMemory: true }
) & {
  /** Called for every SQL statement sent through Prisma's connection, transaction control excepted (tests and benchmarks count them). */
  onStatement?: (sql: string) => void;
  /**
   * Called when a pooled PostgreSQL connection fails or is ended by the server (restart, failover,
   * pg_terminate_backend, idle timeout). The connection is discarded and replaced on next use.
   */
  onConnectionError?: (error: Error) => void;
};

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if ('databaseUrl' in options) {
    const { databaseUrl, directDatabaseUrl, poolSize = 10, onStatement, onConnectionError } = options;
    const prepared = new PreparedStatements(options.preparedStatements ?? true);
    return connectPostgres(databaseUrl, directDatabaseUrl, poolSize, onStatement, onConnectionError, {
      prepared,
      onDisabled: options.onPreparedStatementsDisabled,
    });
  }
  if ('dataDir' in options) return openEmbedded(options.dataDir, options.onStatement);
  return openPglite(new PGlite(), undefined, async () => {}, options.onStatement);
}

/**
 * Under a burst, explicit transactions queue for a pooled connection. Prisma's default two-second
 * wait turns that queue into errors; a burst should slow down, not fail.
 */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 15_000 };

/**
 * Prisma's other error formats capture a stack trace on every call (~50 µs of CPU) to point at the
 * caller in an error message — here always a resolver inside Pothos, and clients only ever see
 * masked errors. `minimal` is also what Prisma picks by itself under NODE_ENV=production.
 */
const ERROR_FORMAT = 'minimal';

/**
 * Connects the driver once and hands out Prisma clients over views of that one connection: the
 * system client here, and one client per active tenant (src/db/tenant-db.ts).
 */
async function connectClients(
  factory: SqlDriverAdapterFactory,
  onStatement: ((sql: string) => void) | undefined,
  withSettings?: SharedConnection['withSettings'],
): Promise<Pick<Database, 'prisma' | 'connection' | 'newClient'>> {
  const driver: SharedConnection = Object.assign(await factory.connect(), withSettings ? { withSettings } : {});
  const connection = onStatement ? observeStatements(driver, onStatement) : driver;
  const newClient = (adapter: SqlDriverAdapterFactory) =>
    new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS, errorFormat: ERROR_FORMAT });
  const shared: SqlDriverAdapter = { ...bindAll(connection), dispose: async () => {} };
  const prisma = newClient({ provider: factory.provider, adapterName: factory.adapterName, connect: async () => shared });
  return { prisma, connection, newClient };
}

/** The adapter's methods bound to it, so a copy of it can stand in for it. */
function bindAll(connection: SqlDriverAdapter): SqlDriverAdapter {
  return {
    provider: connection.provider,
    adapterName: connection.adapterName,
    queryRaw: (query) => connection.queryRaw(query),
    executeRaw: (query) => connection.executeRaw(query),
    executeScript: (script) => connection.executeScript(script),
    startTransaction: (isolationLevel) => connection.startTransaction(isolationLevel),
    getConnectionInfo: connection.getConnectionInfo?.bind(connection),
    dispose: () => connection.dispose(),
  };
}

/**
 * How long a statement may wait for a pooled connection, or for a new one to be made. Past it the
 * request fails as UNAVAILABLE instead of waiting on a database that is not answering; a burst
 * on a healthy database is served well within it.
 */
const CONNECT_TIMEOUT_MS = 10_000;

async function connectPostgres(
  databaseUrl: string,
  directDatabaseUrl: string | undefined,
  poolSize: number,
  onStatement: ((sql: string) => void) | undefined,
  onConnectionError: ((error: Error) => void) | undefined,
  statements: { prepared: PreparedStatements; onDisabled?: (error: Error) => void },
): Promise<Database> {
  // BEGIN and the tenant settings ride with each tenant transaction's first statement.
  const pool = mergeTenantBegin(
    new pg.Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true }),
  );
  // A connection the server ends emits 'error' whether it is idle in the pool or checked out
  // mid-statement; pg listens only while it is idle, and an 'error' nobody listens to ends the
  // process. So every connection gets a listener for its whole life: the statement in flight
  // fails on its own (answered UNAVAILABLE), and pg discards the connection when it is released.
  const connectionFailed = (error: Error) => {
    increment('database_connection_error');
    onConnectionError?.(error);
  };
  pool.on('connect', (client) => client.on('error', connectionFailed));
  pool.on('error', connectionFailed);
  // Sessions (migrations and their advisory lock) on the direct connection; made when first needed.
  let sessions: pg.Pool | undefined;
  const sessionPool = () => {
    if (!directDatabaseUrl) return pool;
    if (!sessions) {
      sessions = new pg.Pool({
        connectionString: directDatabaseUrl,
        max: 2,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        keepAlive: true,
      });
      sessions.on('connect', (client) => client.on('error', connectionFailed));
      sessions.on('error', connectionFailed);
    }
    return sessions;
  };
  // A tenant statement outside a transaction goes out behind its settings, in one round trip.
  const withSettings = (settings: () => SqlQuery) =>
    pgStatementsWithSettings(pool, settings, statements.prepared, statements.onDisabled);
  const clients = await connectClients(new PrismaPg(pool), onStatement, withSettings);
  return {
    kind: 'postgres',
    ...clients,
    sql: createPgRunner(pool, sessionPool),
    dataDir: undefined,
    async close() {
      await clients.prisma.$disconnect();
      await clients.connection.dispose();
      await pool.end();
      await sessions?.end();
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
  const clients = await connectClients(new PrismaPGlite(pglite), onStatement);
  return {
    kind: 'pglite',
    ...clients,
    sql: createPgliteRunner(pglite),
    listen: async (channel, onPayload) => {
      const stop = await pglite.listen(channel, onPayload);
      return async () => await stop();
    },
    dataDir,
    async close() {
      await clients.prisma.$disconnect();
      await clients.connection.dispose();
      await pglite.close();
      await release();
    },
  };
}
