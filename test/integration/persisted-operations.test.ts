import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe } from '../helpers/subscriber.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let database: TestDatabase;
let strict: TestServer;
let open: TestServer;
let a: TenantFixture;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await createTenantFixture(database, { slug: 'persisted', projects: 1, tasksPerProject: 1 });
  strict = await startTestServer({ database, persistedOperationsOnly: true });
  open = await startTestServer({ database });
  token = await strict.token(a.owner.id, a.slug);
});
afterAll(async () => {
  await strict?.close();
  await open?.close();
  await database?.destroy();
});

async function post(server: TestServer, body: Record<string, unknown>) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await server.token(a.owner.id, a.slug)}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] },
  };
}

describe('persisted operations only (PERSISTED_OPERATIONS_ONLY=true)', () => {
  it('runs the SDK’s operations sent by hash', async () => {
    const { sdk } = createClient({ url: strict.url, token, persisted: true });
    const viewer = await sdk.Viewer();
    expect(viewer.ok && viewer.data.viewer.tenant.slug).toBe('persisted');
    const projects = await sdk.Projects({ first: 5 });
    expect(projects.ok && projects.data.projects.totalCount).toBe(1);
  });

  it('refuses any operation sent as text, even one from the SDK, and unknown hashes', async () => {
    const asText = await createClient({ url: strict.url, token }).sdk.Viewer();
    expect(asText).toMatchObject({ ok: false, error: { code: 'PERSISTED_OPERATION_REQUIRED', status: 400 } });
    const madeUp = await post(strict, { query: '{ members { user { email } } }' });
    expect(madeUp.status).toBe(400);
    expect(madeUp.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_OPERATION_REQUIRED');
    const unknown = await post(strict, { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.body.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
  });
});

describe('the default mode', () => {
  it('runs operations sent as text and by hash alike', async () => {
    // Each test server signs with a key of its own.
    const token = await open.token(a.owner.id, a.slug);
    expect((await createClient({ url: open.url, token }).sdk.Viewer()).ok).toBe(true);
    expect(await createClient({ url: open.url, token, persisted: true }).sdk.Viewer()).toMatchObject({ ok: true });
    const madeUp = await post(open, { query: '{ members { role } }' });
    expect(madeUp.status).toBe(200);
  });

  it('holds websocket subscriptions to the same list: by hash they run, as text they are refused', async () => {
    const projectId = globalId('Project', a.projectIds[0] ?? '');
    const byHash = subscribe(strict.url, token, 'TaskChanged', { projectId }, { persisted: true });
    const asText = subscribe(strict.url, token, 'TaskChanged', { projectId });
    await Promise.all([byHash.connected, asText.connected]);
    await asText.received(1);
    expect(asText.messages).toMatchObject([{ ok: false, error: { code: 'PERSISTED_OPERATION_REQUIRED' } }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const created = await createClient({ url: strict.url, token, persisted: true }).sdk.CreateTask({
      input: { projectId, title: 'By hash' },
    });
    expect(created.ok).toBe(true);
    await byHash.received(1);
    expect(byHash.events.map((event) => event.taskChanged.task?.title)).toEqual(['By hash']);
    await Promise.all([byHash.dispose(), asText.dispose()]);
  });
});
