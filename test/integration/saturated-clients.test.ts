import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTenant, runInTenant } from '../../src/tenancy/tenant-context.js';
import { createTenantFixture, ownerContext, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// One database client, and a wait of 100 ms for it: while something else holds it, an execution
// answers UNAVAILABLE — and a subscription loses that one message, not the subscription.

let server: TestServer;
let tenant: TenantFixture;

beforeAll(async () => {
  server = await startTestServer({ environment: { DATABASE_CLIENTS: '1', DATABASE_CLIENT_WAIT_MS: '100' } });
  tenant = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 1 });
});
afterAll(() => server?.close());

const holdTheOnlyClient = () =>
  runInTenant(ownerContext(tenant, 'holder'), () => server.app.databaseClients.lease(currentTenant()));

describe('when no database client comes free in time', () => {
  it('a query answers UNAVAILABLE with 503 and retry-after, and the next one is served', async () => {
    const token = await server.token(tenant.owner.id, tenant.slug);
    await server.request('{ viewer { role } }', { token });
    const held = await holdTheOnlyClient();
    const refused = await server.request('{ projects(first: 1) { totalCount } }', { token });
    held.release();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })]);
    const served = await server.request('{ projects(first: 1) { totalCount } }', { token });
    expect(served.body).toEqual({ data: { projects: { totalCount: 1 } } });
  });

  it('a websocket subscription gets UNAVAILABLE for that event and stays subscribed for the next', async () => {
    const projectId = tenant.projectIds[0] as string;
    const subscriber = subscribe(server.url, await server.token(tenant.owner.id, tenant.slug), 'TaskChanged', {
      projectId: globalId('Project', projectId),
    });
    await subscriber.connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const event = { type: 'task', tenantId: tenant.id, projectId, taskId: tenant.taskIds[0] as string, kind: 'UPDATED' } as const;
    const held = await holdTheOnlyClient();
    server.app.pubsub.publish(event);
    await subscriber.received(1);
    held.release();
    server.app.pubsub.publish(event);
    await subscriber.received(2);
    expect(subscriber.messages.map((message) => (message.ok ? 'event' : message.error.code))).toEqual(['UNAVAILABLE', 'event']);
    expect(subscriber.closeCode).toBeUndefined();
    await subscriber.dispose();
  });
});
