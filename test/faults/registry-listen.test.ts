import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, setTenantStatus } from '../../src/admin/tenant-admin.js';
import { createDatabase, type Database } from '../../src/db/create-database.js';
import { prepareDatabase } from '../../src/db/prepare-database.js';
import { listenForRegistryChanges, notifyRegistryChange, notifyRegistryPayload } from '../../src/db/registry-notifications.js';
import { createRegistrySource } from '../../src/db/registry-source.js';
import { createLogger } from '../../src/observability/logger.js';
import { counterValue } from '../../src/observability/metrics.js';
import { TenantRegistry } from '../../src/tenancy/tenant-registry.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

// LISTEN/NOTIFY against a PostgreSQL of the test's own (in both CI passes), which the tests
// disturb: the listening backend terminated, the whole server stopped and started again.

let postgres: PrivatePostgres;
let database: Database;
let registry: TenantRegistry;
let tenantId: string;
const slug = 'listen-co';
let stopListening: () => Promise<void>;
let heartbeatsDelivered = true;

const fatal: unknown[] = [];
const recordFatal = (error: unknown) => fatal.push(error);

beforeAll(async () => {
  process.on('unhandledRejection', recordFatal);
  process.on('uncaughtException', recordFatal);
  postgres = await startPrivatePostgres();
  database = await createDatabase({ databaseUrl: postgres.url, poolSize: 2 });
  await prepareDatabase(database);
  tenantId = (await createTenant(database.prisma, { slug })).id;
  // A TTL far longer than any test: only a notification or a flush can change an answer.
  registry = new TenantRegistry(createRegistrySource(database.prisma), { ttlMs: 600_000 });
  stopListening = await listenForRegistryChanges(postgres.url, registry, {
    logger: createLogger('silent'),
    minRetryDelayMs: 20,
    maxRetryDelayMs: 200,
    // Heartbeats sent through the pool; switched off, they are lost as a pooler in front of LISTEN loses them.
    announce: (payload) =>
      heartbeatsDelivered ? notifyRegistryPayload(database.sql, payload) : database.sql.query('SELECT 1').then(() => undefined),
    heartbeatMs: 100,
  });
});
afterAll(async () => {
  await stopListening?.();
  await database?.close();
  await postgres?.destroy();
  process.off('unhandledRejection', recordFatal);
  process.off('uncaughtException', recordFatal);
});
afterEach(() => {
  expect(fatal.splice(0)).toEqual([]);
});

/** Retries `action` until it succeeds: right after a fault, the pool may hand out a dead connection first. */
async function eventually<T>(action: () => Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  await eventually(
    async () => {
      if (!(await condition())) throw new Error('not yet');
    },
    what,
    timeoutMs,
  );
}

async function listeningBackends(): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'`);
    return rows[0].n as number;
  } finally {
    await client.end().catch(() => {});
  }
}

async function isActive(): Promise<boolean | undefined> {
  return (await registry.tenant(tenantId))?.active;
}

async function suspendAndNotify(status: 'ACTIVE' | 'SUSPENDED') {
  await eventually(() => setTenantStatus(database.prisma, slug, status), 'the status change');
  await eventually(() => notifyRegistryChange(database.sql, { tenantId }), 'the notification');
}

describe('the registry’s LISTEN connection', () => {
  it('is re-established when PostgreSQL terminates it, and notifications apply again', async () => {
    const reconnectedBefore = counterValue('registry_listen_reconnected');
    expect(await isActive()).toBe(true);
    await postgres.terminateBackends('postgres');
    await until(() => counterValue('registry_listen_reconnected') > reconnectedBefore, 'the listener to come back');
    expect(await eventually(isActive, 'a registry answer')).toBe(true);
    await suspendAndNotify('SUSPENDED');
    await until(async () => (await isActive()) === false, 'the suspension to be notified');
    await suspendAndNotify('ACTIVE');
    await until(async () => (await isActive()) === true, 'the reactivation to be notified');
  });

  it('flushes the cache when it listens again: a change made while nobody listened is not missed', async () => {
    expect(await eventually(isActive, 'a registry answer')).toBe(true);
    await postgres.stop('fast');
    const reconnectedBefore = counterValue('registry_listen_reconnected');
    await postgres.start();
    // Made while the listener is still retrying, so its notification reaches nobody.
    await eventually(() => setTenantStatus(database.prisma, slug, 'SUSPENDED'), 'the suspension');
    await until(() => counterValue('registry_listen_reconnected') > reconnectedBefore, 'the listener to come back', 10_000);
    expect(await eventually(isActive, 'a registry answer')).toBe(false);
    await suspendAndNotify('ACTIVE');
    await until(async () => (await isActive()) === true, 'the reactivation to be notified');
  });

  it('ignores a malformed notification (anyone who can connect may send one) and keeps applying the next', async () => {
    expect(await eventually(isActive, 'a registry answer')).toBe(true);
    for (const payload of ['null', 'not json', '42', '{"tenant":"x"}', '{"heartbeat":7}']) {
      await eventually(() => database.sql.query('SELECT pg_notify($1, $2)', ['tenantgraph_registry', payload]), 'a notification');
    }
    await suspendAndNotify('SUSPENDED');
    await until(async () => (await isActive()) === false, 'the suspension to be notified');
    await suspendAndNotify('ACTIVE');
    await until(async () => (await isActive()) === true, 'the reactivation to be notified');
  });

  it('hears a change made by plain SQL, whoever makes it (the tables announce their changes)', async () => {
    expect(await eventually(isActive, 'a registry answer')).toBe(true);
    await eventually(() => database.sql.query(`UPDATE tenants SET status = 'SUSPENDED' WHERE slug = $1`, [slug]), 'the update');
    await until(async () => (await isActive()) === false, 'the suspension to be heard');
    await eventually(() => database.sql.query(`UPDATE tenants SET status = 'ACTIVE' WHERE slug = $1`, [slug]), 'the update');
    await until(async () => (await isActive()) === true, 'the reactivation to be heard');
  });

  it('lets the registry trust its answers long only while its heartbeats are heard', async () => {
    await until(() => registry.changesArePushed, 'changes to be pushed');
    const missedBefore = counterValue('registry_heartbeat_missed');
    heartbeatsDelivered = false;
    try {
      await until(() => !registry.changesArePushed, 'the missed heartbeat to be noticed', 2_000);
      expect(counterValue('registry_heartbeat_missed')).toBeGreaterThan(missedBefore);
    } finally {
      heartbeatsDelivered = true;
    }
    await until(() => registry.changesArePushed, 'changes to be pushed again', 2_000);
  });

  it('stops retrying once stopped', async () => {
    await until(async () => (await listeningBackends()) === 1, 'one listening backend');
    await postgres.terminateBackends('postgres');
    await stopListening();
    const reconnectedBefore = counterValue('registry_listen_reconnected');
    // Ten times the longest retry delay: a listener still retrying would be back by then.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await listeningBackends()).toBe(0);
    expect(counterValue('registry_listen_reconnected')).toBe(reconnectedBefore);
  });
});
