import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTenantStatus } from '../../src/admin/tenant-admin.js';
import { createLogger } from '../../src/observability/logger.js';
import { counterValue } from '../../src/observability/metrics.js';
import { connectRedis, REGISTRY_CHANNEL, type RedisConnections } from '../../src/pubsub/redis.js';
import { applyRegistryChangesFromRedis } from '../../src/pubsub/redis-registry-changes.js';
import { createClient as createSdk } from '../../src/sdk/index.js';
import { scopedKey } from '../../src/tenancy/scoped-key.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { subscribe, waitFor } from '../helpers/subscriber.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Two instances sharing a Redis of the test's own, which the tests stop and start again.

let redisServer: PrivateRedis;
let database: TestDatabase;
let tenant: TenantFixture;
let redisA: RedisConnections;
let redisB: RedisConnections;
let instanceA: TestServer;
let instanceB: TestServer;
let raw: Redis;
let redisDown = false;

async function stopRedis() {
  redisDown = true;
  await redisServer.stop();
}
async function startRedis() {
  await redisServer.start();
  redisDown = false;
}

// Any unhandled rejection or exception is the process going down in production.
const fatal: unknown[] = [];
const recordFatal = (error: unknown) => fatal.push(error);

beforeAll(async () => {
  process.on('unhandledRejection', recordFatal);
  process.on('uncaughtException', recordFatal);
  redisServer = await startPrivateRedis();
  database = await createTestDatabase();
  tenant = await createTenantFixture(database, { projects: 2, tasksPerProject: 0 });
  redisA = await connectRedis(redisServer.url);
  redisB = await connectRedis(redisServer.url);
  instanceA = await startTestServer({ database, eventTarget: redisA.eventTarget, degradedWithout: { redis: redisA.ready } });
  // A long TTL: only an invalidation (or a flush) can make instance B see a change.
  instanceB = await startTestServer({ database, eventTarget: redisB.eventTarget, registryTtlMs: 60_000 });
  await applyRegistryChangesFromRedis(redisB, instanceB.app.registry, createLogger('silent'));
  raw = new Redis(redisServer.url, { lazyConnect: true, retryStrategy: () => 50 });
  raw.on('error', () => {});
  await raw.connect();
});
afterAll(async () => {
  await instanceA?.close();
  await instanceB?.close();
  await Promise.all([redisA?.close(), redisB?.close()]);
  raw?.disconnect();
  await redisServer?.destroy();
  await database?.destroy();
  process.off('unhandledRejection', recordFatal);
  process.off('uncaughtException', recordFatal);
});
beforeEach(async () => {
  // A test that failed half-way may have left Redis stopped.
  if (redisDown) await startRedis();
  await waitFor(() => redisA.ready() && redisB.ready(), 15_000, 'both instances to be connected to Redis');
});
afterEach(() => {
  expect(fatal.splice(0)).toEqual([]);
});

const projectId = (index = 0) => tenant.projectIds[index] ?? '';

async function subscribeOnB(project = projectId()) {
  const subscriber = subscribe(instanceB.url, await instanceB.token(tenant.owner.id, tenant.slug), 'TaskChanged', {
    projectId: globalId('Project', project),
  });
  await subscriber.connected;
  return subscriber;
}

async function createTaskOnA(title: string, project = projectId()) {
  const { sdk } = createSdk({ url: instanceA.url, token: await instanceA.token(tenant.owner.id, tenant.slug) });
  return sdk.CreateTask({ input: { projectId: globalId('Project', project), title } });
}

/**
 * Creates a task titled `title` on A until B's subscriber has it (the subscription may still be on
 * its way to Redis): each attempt gets half a second to arrive, all of them 15 s.
 */
async function deliveredAcross(subscriber: Awaited<ReturnType<typeof subscribeOnB>>, title: string, project = projectId()) {
  const arrived = () => subscriber.events.some((event) => event.taskChanged.task?.title === title);
  const deadline = Date.now() + 15_000;
  while (!arrived()) {
    if (Date.now() > deadline) throw new Error(`"${title}" never reached instance B`);
    expect((await createTaskOnA(title, project)).ok).toBe(true);
    const attempt = Date.now() + 500;
    while (!arrived() && Date.now() < attempt) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a Redis outage', () => {
  it('a mutation while Redis is down still answers, the failed publish is counted, and the process stays up', async () => {
    await stopRedis();
    await waitFor(() => !redisA.ready(), 5_000, 'instance A to notice Redis is gone');
    const failedBefore = counterValue('redis_publish_failed');
    const created = await createTaskOnA('Written during the outage');
    expect(created.ok).toBe(true);
    await waitFor(() => counterValue('redis_publish_failed') > failedBefore, 5_000, 'the failed publish to be counted');
    // Degraded, not unready: queries and mutations still work without Redis.
    const readiness = await fetch(new URL('/readyz', instanceA.url));
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toEqual({ status: 'degraded', checks: { database: true, process: true, redis: false } });
    // Give an unowned rejection time to surface before afterEach looks.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('subscriptions come back by themselves: events published after Redis returns reach the other instance', async () => {
    const before = await subscribeOnB();
    await deliveredAcross(before, 'Before the outage');
    await stopRedis();
    await waitFor(() => !redisB.ready(), 5_000, 'instance B to notice Redis is gone');
    // A subscription to a channel not yet subscribed cannot reach Redis now; it must work once Redis is back.
    const during = await subscribeOnB(projectId(1));
    await startRedis();
    await waitFor(() => redisA.ready() && redisB.ready(), 15_000, 'both instances to reconnect and resubscribe');
    await deliveredAcross(before, 'After the outage');
    await deliveredAcross(during, 'After the outage', projectId(1));
    expect(before.messages.every((message) => message.ok)).toBe(true);
    await Promise.all([before.dispose(), during.dispose()]);
  });

  it('the registry cache is flushed when its channel comes back: a suspension announced during the outage is not missed', async () => {
    expect((await instanceB.app.registry.tenant(tenant.id))?.active).toBe(true);
    await stopRedis();
    await waitFor(() => !redisB.ready(), 5_000, 'instance B to notice Redis is gone');
    await setTenantStatus(database.prisma, tenant.slug, 'SUSPENDED');
    // The announcement is lost: Redis is down.
    await expect(redisA.publish(REGISTRY_CHANNEL, JSON.stringify({ tenantId: tenant.id }))).rejects.toThrow();
    try {
      await startRedis();
      await waitFor(() => redisB.ready(), 15_000, 'instance B to resubscribe');
      expect((await instanceB.app.registry.tenant(tenant.id))?.active).toBe(false);
    } finally {
      await setTenantStatus(database.prisma, tenant.slug, 'ACTIVE');
      instanceB.app.registry.invalidateAll();
    }
  });
});

describe('malformed messages on Redis', () => {
  it('are dropped and counted on an events channel; the subscribers carry on', async () => {
    const subscriber = await subscribeOnB();
    await deliveredAcross(subscriber, 'Before the garbage');
    const channel = scopedKey(['task', projectId()], tenant.id);
    const droppedBefore = counterValue('redis_message_dropped');
    for (const message of ['not json', '', 'null', '{"type":"task"}', '[1,2]']) await raw.publish(channel, message);
    await waitFor(() => counterValue('redis_message_dropped') >= droppedBefore + 5, 5_000, 'five messages to be dropped');
    await deliveredAcross(subscriber, 'After the garbage');
    expect(subscriber.messages.every((message) => message.ok)).toBe(true);
    await subscriber.dispose();
  });

  it('are dropped and counted on the registry channel; well-formed changes still apply', async () => {
    const droppedBefore = counterValue('redis_message_dropped');
    for (const message of ['not json', 'null', '42', '{"tenant":"x"}']) await raw.publish(REGISTRY_CHANNEL, message);
    await waitFor(() => counterValue('redis_message_dropped') >= droppedBefore + 4, 5_000, 'four messages to be dropped');
    expect((await instanceB.app.registry.tenant(tenant.id))?.active).toBe(true);
    await setTenantStatus(database.prisma, tenant.slug, 'SUSPENDED');
    try {
      await raw.publish(REGISTRY_CHANNEL, JSON.stringify({ tenantId: tenant.id }));
      const deadline = Date.now() + 5_000;
      while ((await instanceB.app.registry.tenant(tenant.id))?.active !== false) {
        if (Date.now() > deadline) throw new Error('the suspension never reached instance B');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await setTenantStatus(database.prisma, tenant.slug, 'ACTIVE');
      instanceB.app.registry.invalidateAll();
    }
  });
});
