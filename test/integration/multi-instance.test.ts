import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTenantStatus } from '../../src/admin/tenant-admin.js';
import { applyRegistryChange } from '../../src/db/registry-notifications.js';
import { connectRedis, REGISTRY_CHANNEL, type RedisConnections } from '../../src/pubsub/redis.js';
import { createClient as createSdk } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe } from '../helpers/subscriber.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Two instances over one database. With REDIS_URL (CI's PostgreSQL + Redis run) they share events
// and registry changes through Redis; without it, each instance's events stay its own.

const redisUrl = process.env.REDIS_URL || undefined;
let database: TestDatabase;
let tenant: TenantFixture;
let instanceA: TestServer;
let instanceB: TestServer;
const redis: RedisConnections[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  tenant = await createTenantFixture(database, { projects: 1, tasksPerProject: 0 });
  const bus = async () => {
    if (!redisUrl) return undefined;
    const connections = await connectRedis(redisUrl);
    redis.push(connections);
    return connections.eventTarget;
  };
  instanceA = await startTestServer({ database, eventTarget: await bus(), environment: { SUBSCRIPTION_RECHECK_MS: '100' } });
  instanceB = await startTestServer({ database, eventTarget: await bus(), environment: { SUBSCRIPTION_RECHECK_MS: '100' } });
  const [redisA, redisB] = redis;
  await redisA?.listen(REGISTRY_CHANNEL, (message) => applyRegistryChange(instanceA.app.registry, message));
  await redisB?.listen(REGISTRY_CHANNEL, (message) => applyRegistryChange(instanceB.app.registry, message));
});
afterAll(async () => {
  await instanceA?.close();
  await instanceB?.close();
  await Promise.all(redis.map((connections) => connections.close()));
  await database?.destroy();
});

async function subscribeOnB() {
  const subscriber = subscribe(instanceB.url, await instanceB.token(tenant.owner.id, tenant.slug), 'TaskChanged', {
    projectId: globalId('Project', tenant.projectIds[0] ?? ''),
  });
  await subscriber.connected;
  await new Promise((resolve) => setTimeout(resolve, 150));
  return subscriber;
}

async function createTaskOnA(title: string) {
  const { sdk } = createSdk({ url: instanceA.url, token: await instanceA.token(tenant.owner.id, tenant.slug) });
  const created = await sdk.CreateTask({ input: { projectId: globalId('Project', tenant.projectIds[0] ?? ''), title } });
  expect(created.ok).toBe(true);
}

describe('two instances', () => {
  if (redisUrl) {
    it('a mutation on instance A reaches a subscriber on instance B through Redis', async () => {
      const subscriber = await subscribeOnB();
      await createTaskOnA('Across instances');
      await subscriber.received(1);
      expect(subscriber.events.map((event) => [event.taskChanged.kind, event.taskChanged.task?.title])).toEqual([
        ['CREATED', 'Across instances'],
      ]);
      await subscriber.dispose();
    });

    it('a suspension announced through Redis closes the tenant’s subscriptions on instance B within a second', async () => {
      const subscriber = await subscribeOnB();
      await setTenantStatus(database.prisma, tenant.slug, 'SUSPENDED');
      const [redisA] = redis;
      await redisA?.publish(REGISTRY_CHANNEL, JSON.stringify({ tenantId: tenant.id }));
      const started = Date.now();
      expect(await subscriber.closed(2_000)).toBe(4403);
      expect(Date.now() - started).toBeLessThan(1_000);
      await setTenantStatus(database.prisma, tenant.slug, 'ACTIVE');
    });
  } else {
    it('without REDIS_URL, events stay in the instance that published them', async () => {
      const subscriber = await subscribeOnB();
      await createTaskOnA('Stays on A');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(subscriber.events).toEqual([]);
      await subscriber.dispose();
    });
  }
});
