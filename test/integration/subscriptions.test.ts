import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeMember, setTenantStatus } from '../../src/admin/tenant-admin.js';
import { createClient as createSdk } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  // A buffer large enough for the burst of the thousands-of-events case (published in one go).
  server = await startTestServer({ environment: { SUBSCRIPTION_RECHECK_MS: '100', SUBSCRIPTION_BUFFER: '1024' } });
  a = await createTenantFixture(server.database, { slug: 'sub-a', projects: 1, tasksPerProject: 1 });
  b = await createTenantFixture(server.database, { slug: 'sub-b', projects: 1, tasksPerProject: 1 });
});
afterAll(() => server?.close());

describe('subscriptions over graphql-ws', () => {
  it('deliver a tenant’s task events in order, nested fields scoped; another tenant asking for the same project gets nothing', async () => {
    const projectId = globalId('Project', a.projectIds[0] ?? '');
    const mine = subscribe(server.url, await server.token(a.owner.id, a.slug), 'TaskChanged', { projectId });
    const theirs = subscribe(server.url, await server.token(b.owner.id, b.slug), 'TaskChanged', { projectId });
    await Promise.all([mine.connected, theirs.connected]);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const { sdk } = createSdk({ url: server.url, token: await server.token(a.member.id, a.slug) });
    const created = await sdk.CreateTask({ input: { projectId, title: 'Live', assigneeId: globalId('User', a.viewer.id) } });
    if (!created.ok) throw new Error(created.error.message);
    await sdk.UpdateTask({ input: { id: created.data.createTask.id, status: 'IN_PROGRESS' } });
    // Events carry ids and each payload is read when it is delivered: delete only once the update
    // has been read, or its payload may already find the task gone (task: null), as it should.
    await mine.received(2);
    await sdk.DeleteTask({ id: created.data.createTask.id });
    await mine.received(3);

    expect(mine.events.map((event) => event.taskChanged.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED']);
    expect(mine.events[0]?.taskChanged.task).toMatchObject({
      title: 'Live',
      status: 'TODO',
      project: { id: projectId, name: 'sub-a project 0' },
      assignee: { email: a.viewer.email },
      comments: { totalCount: 0 },
    });
    expect(mine.events[1]?.taskChanged.task?.status).toBe('IN_PROGRESS');
    expect(mine.events[2]?.taskChanged).toEqual({ kind: 'DELETED', taskId: created.data.createTask.id, task: null });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(theirs.messages).toEqual([]);
    expect(theirs.closeCode).toBeUndefined();
    await Promise.all([mine.dispose(), theirs.dispose()]);
  });

  it('refuse a connection without a valid token (4401) or for a tenant the user is not in (4403)', async () => {
    const anonymous = subscribe(server.url, undefined, 'ProjectChanged', {});
    expect(await anonymous.closed()).toBe(4401);
    const stranger = subscribe(server.url, await server.token(b.owner.id, a.slug), 'TaskChanged', {
      projectId: globalId('Project', a.projectIds[0] ?? ''),
    });
    expect(await stranger.closed()).toBe(4403);
  });

  it('end at the next event once the tenant is suspended, without delivering it', async () => {
    const tenant = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
    const projectId = globalId('Project', tenant.projectIds[0] ?? '');
    const subscriber = subscribe(server.url, await server.token(tenant.owner.id, tenant.slug), 'TaskChanged', {
      projectId,
    });
    await subscriber.connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await setTenantStatus(server.database.prisma, tenant.slug, 'SUSPENDED');
    server.app.registry.invalidateTenant(tenant.id);
    server.app.pubsub.publish({
      type: 'task',
      tenantId: tenant.id,
      projectId: tenant.projectIds[0] ?? '',
      taskId: crypto.randomUUID(),
      kind: 'DELETED',
    });
    expect(await subscriber.closed()).toBe(4403);
    expect(subscriber.events).toEqual([]);
    expect(subscriber.messages.map((message) => !message.ok && message.error.code)).toEqual(['FORBIDDEN']);
  });

  it('close an idle subscription of a removed member within the re-check interval', async () => {
    const tenant = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
    const subscriber = subscribe(server.url, await server.token(tenant.member.id, tenant.slug), 'ProjectChanged', {});
    await subscriber.connected;
    await removeMember(server.database.prisma, tenant.member.email, tenant.slug);
    server.app.registry.invalidateMembership(tenant.id, tenant.member.id);
    const started = Date.now();
    expect(await subscriber.closed(2_000)).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(subscriber.events).toEqual([]);
    expect(subscriber.messages.map((message) => !message.ok && message.error.code)).toEqual(['FORBIDDEN']);
  });

  it('over SSE, end an idle subscription of a suspended tenant within the re-check interval, with the error', async () => {
    const tenant = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${await server.token(tenant.owner.id, tenant.slug)}`,
      },
      body: JSON.stringify({ query: 'subscription { projectChanged { kind } }' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await setTenantStatus(server.database.prisma, tenant.slug, 'SUSPENDED');
    server.app.registry.invalidateTenant(tenant.id);
    const started = Date.now();
    // The stream ends by itself (no event was published): read it to its end.
    const text = await response.text();
    expect(Date.now() - started).toBeLessThan(2_000);
    const data = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)));
    expect(data.map((message) => message.errors?.[0]?.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(data[0].data).toBeUndefined();
    expect(text).toMatch(/event: complete/);
  });

  it('close a subscription whose token expired, idle or not', async () => {
    const subscriber = subscribe(server.url, await server.token(a.owner.id, a.slug, 1), 'ProjectChanged', {});
    await subscriber.connected;
    expect(await subscriber.closed(4_000)).toBe(4401);
  });

  it('deliver thousands of interleaved events of several tenants: nothing lost, nothing crossed', async () => {
    const c = await createTenantFixture(server.database, { slug: 'sub-c', projects: 1, tasksPerProject: 0 });
    const tenants = [a, b, c];
    const subscribers = await Promise.all(
      tenants.map(async (tenant) => {
        const subscriber = subscribe(server.url, await server.token(tenant.owner.id, tenant.slug), 'TaskChanged', {
          projectId: globalId('Project', tenant.projectIds[0] ?? ''),
        });
        await subscriber.connected;
        return subscriber;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const perTenant = 1_000;
    const sent: string[][] = tenants.map(() => []);
    for (let i = 0; i < perTenant * tenants.length; i++) {
      const index = i % tenants.length;
      const tenant = tenants[index] as TenantFixture;
      const taskId = crypto.randomUUID();
      sent[index]?.push(globalId('Task', taskId));
      server.app.pubsub.publish({
        type: 'task',
        tenantId: tenant.id,
        projectId: tenant.projectIds[0] ?? '',
        taskId,
        kind: 'DELETED',
      });
    }
    await Promise.all(subscribers.map((subscriber) => subscriber.received(perTenant, 30_000)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    subscribers.forEach((subscriber, index) => {
      expect(subscriber.events.map((event) => event.taskChanged.taskId)).toEqual(sent[index]);
    });
    await Promise.all(subscribers.map((subscriber) => subscriber.dispose()));
  });
});
