import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { counterValue } from '../../src/observability/metrics.js';
import { createClient } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe, waitFor } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  server = await startTestServer({
    environment: {
      SUBSCRIPTIONS_PER_CONNECTION: '2',
      SUBSCRIPTIONS_PER_TENANT: '3',
      SUBSCRIPTION_BUFFER: '5',
      SUBSCRIPTION_INIT_TIMEOUT_MS: '300',
    },
  });
  a = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
  b = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
});
afterAll(() => server?.close());

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

/** One SDK client (one socket) holding several subscriptions, recording each one's results. */
async function connection(tenant: TenantFixture) {
  const client = createClient({ url: server.url, token: await server.token(tenant.owner.id, tenant.slug) });
  const results: { code: string | undefined; events: number }[] = [];
  const open = (count: number) => {
    for (let i = 0; i < count; i++) {
      const record = { code: undefined as string | undefined, events: 0 };
      results.push(record);
      client.subscribe(
        'ProjectChanged',
        {},
        {
          next: (result) => {
            if (result.ok) record.events++;
            else record.code = result.error.code;
          },
        },
      );
    }
  };
  return { client, results, open };
}

function publishProjectEvent(tenant: TenantFixture) {
  server.app.pubsub.publish({ type: 'project', tenantId: tenant.id, projectId: tenant.projectIds[0] ?? '', kind: 'UPDATED' });
}

/** A subscription over server-sent events: what it has received so far, and a way to leave. */
async function overSse(tenant: TenantFixture) {
  const controller = new AbortController();
  const response = await fetch(server.url, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${await server.token(tenant.owner.id, tenant.slug)}`,
    },
    body: JSON.stringify({ query: 'subscription { projectChanged { kind } }' }),
  });
  const stream = { text: '', ended: false, leave: () => controller.abort() };
  const reader = response.body?.getReader();
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        stream.text += decoder.decode(chunk.value);
      }
    } catch {
      // aborted by leave()
    }
    stream.ended = true;
  })();
  return stream;
}

describe('subscription limits', () => {
  it('refuse a connection’s subscription beyond its limit, with RATE_LIMITED, and keep the others running', async () => {
    const one = await connection(a);
    one.open(3);
    await waitFor(() => one.results[2]?.code !== undefined, 3_000, 'the third subscription to be refused');
    expect(one.results.map((result) => result.code)).toEqual([undefined, undefined, 'RATE_LIMITED']);
    await settle();
    publishProjectEvent(a);
    await waitFor(() => one.results.slice(0, 2).every((result) => result.events === 1), 3_000, 'both to get the event');
    await one.client.close();
  });

  it('refuse a tenant’s subscriptions beyond its per-instance limit across connections; other tenants are unaffected, and slots free up on close', async () => {
    const first = await connection(a);
    const second = await connection(a);
    first.open(2);
    await settle();
    second.open(2);
    await waitFor(() => second.results[1]?.code !== undefined, 3_000, 'the fourth subscription to be refused');
    expect([...first.results, ...second.results].map((result) => result.code)).toEqual([
      undefined,
      undefined,
      undefined,
      'RATE_LIMITED',
    ]);
    expect(counterValue('subscription_tenant_limit')).toBeGreaterThan(0);

    const other = await connection(b);
    other.open(2);
    await settle();
    expect(other.results.map((result) => result.code)).toEqual([undefined, undefined]);

    await first.client.close();
    await settle();
    const third = await connection(a);
    third.open(1);
    await settle();
    publishProjectEvent(a);
    await waitFor(() => third.results[0]?.events === 1, 3_000, 'the freed slot to work');
    expect(third.results[0]?.code).toBeUndefined();
    await Promise.all([second.client.close(), other.client.close(), third.client.close()]);
  });

  it('count subscriptions over server-sent events against the same per-tenant budget, and free their slots when the client leaves', async () => {
    const c = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
    const held = [await overSse(c), await overSse(c), await overSse(c)];
    await settle();
    const refused = await overSse(c);
    await waitFor(() => refused.text.includes('RATE_LIMITED'), 3_000, 'the fourth SSE subscription to be refused');
    // The websocket path draws on the same budget.
    const socket = await connection(c);
    socket.open(1);
    await waitFor(() => socket.results[0]?.code !== undefined, 3_000, 'the websocket subscription to be refused');
    expect(socket.results[0]?.code).toBe('RATE_LIMITED');
    await socket.client.close();

    held[0]?.leave();
    await waitFor(() => held[0]?.ended === true, 3_000, 'the first SSE stream to end');
    await settle();
    const next = await overSse(c);
    await settle();
    server.app.pubsub.publish({ type: 'project', tenantId: c.id, projectId: c.projectIds[0] ?? '', kind: 'UPDATED' });
    await waitFor(() => next.text.includes('UPDATED'), 3_000, 'the freed slot to carry an event');
    expect(held.slice(1).every((stream) => stream.text.includes('UPDATED'))).toBe(true);
    for (const stream of [...held, refused, next]) stream.leave();
  });

  it('end a subscriber that falls more than SUBSCRIPTION_BUFFER events behind with SUBSCRIBER_TOO_SLOW, after what it holds', async () => {
    const projectId = a.projectIds[0] ?? '';
    const slow = subscribe(server.url, await server.token(a.owner.id, a.slug), 'TaskChanged', {
      projectId: globalId('Project', projectId),
    });
    const steady = subscribe(server.url, await server.token(b.owner.id, b.slug), 'ProjectChanged', {});
    await Promise.all([slow.connected, steady.connected]);
    await settle();
    const before = counterValue('subscriber_too_slow');
    // Twenty events in one tick: nothing can be delivered in between, so the queue of five overflows.
    const taskIds = Array.from({ length: 20 }, () => crypto.randomUUID());
    for (const taskId of taskIds) {
      server.app.pubsub.publish({ type: 'task', tenantId: a.id, projectId, taskId, kind: 'DELETED' });
    }
    await slow.received(6);
    await settle();
    expect(slow.events.map((event) => event.taskChanged.taskId)).toEqual(taskIds.slice(0, 5).map((id) => globalId('Task', id)));
    expect(slow.messages).toHaveLength(6);
    expect(slow.messages[5]).toMatchObject({ ok: false, error: { code: 'SUBSCRIBER_TOO_SLOW' } });
    expect(counterValue('subscriber_too_slow')).toBe(before + 1);
    // Only that subscription ended: the socket stays open and other subscribers are untouched.
    expect(slow.closeCode).toBeUndefined();
    publishProjectEvent(b);
    await steady.received(1);
    expect(steady.messages[0]?.ok).toBe(true);
    await Promise.all([slow.dispose(), steady.dispose()]);
  });

  it('close a socket that does not send connection_init in time with 4408', async () => {
    const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => socket.on('close', (closeCode) => resolve(closeCode)));
    expect(code).toBe(4408);
  });
});

describe('shutdown', () => {
  it('drains, then closes sockets with 1001; subscriptions end with complete, not an error', async () => {
    const instance = await startTestServer({ database: server.database });
    const subscriber = subscribe(instance.url, await instance.token(a.owner.id, a.slug), 'ProjectChanged', {});
    await subscriber.connected;
    await settle();
    await instance.close();
    expect(await subscriber.closed()).toBe(1001);
    expect(subscriber.messages).toEqual([]);
    await subscriber.dispose();
  });
});
