import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { createRedisDocumentStore } from '../../src/plugins/persisted-document-store.js';
import { operationHash } from '../../src/sdk/operation-hash.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { connectRaw } from '../helpers/raw-protocol-client.js';
import { waitFor } from '../helpers/subscriber.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// The automatic persisted queries protocol (Apollo's PersistedQueryLink, urql's persisted
// exchange): a client sends a hash; on PERSISTED_QUERY_NOT_FOUND it sends the text with it, which
// registers it; from then on the hash alone runs it. Documents are registered per tenant, only
// for a verified caller, only with a matching hash, only once valid, and never when only the
// reviewed operations may run.

let database: TestDatabase;
let open: TestServer;
let strict: TestServer;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await createTenantFixture(database, { slug: 'apq-a', projects: 1, tasksPerProject: 1 });
  b = await createTenantFixture(database, { slug: 'apq-b', projects: 1, tasksPerProject: 1 });
  open = await startTestServer({ database });
  strict = await startTestServer({ database, persistedOperationsOnly: true });
});
afterAll(async () => {
  await open?.close();
  await strict?.close();
  await database?.destroy();
});

type Body = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };

async function post(server: TestServer, token: string | undefined, body: Record<string, unknown>) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const persisted = async (query: string) => ({ persistedQuery: { version: 1, sha256Hash: await operationHash(query) } });
const notFound = { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } };
// Each test its own document: a document registered by one test must not make another pass.
let counter = 0;
const freshQuery = () => `query Apq${counter++} { viewer { tenant { slug } } }`;

describe('automatic persisted queries, in the open mode', () => {
  it('answers PERSISTED_QUERY_NOT_FOUND for an unknown hash, registers the text sent with it, then runs the hash alone', async () => {
    const token = await open.token(a.owner.id, a.slug);
    const query = freshQuery();
    const extensions = await persisted(query);
    const miss = await post(open, token, { extensions });
    expect(miss.status).toBe(400);
    expect(miss.body.errors).toMatchObject([notFound]);
    const withText = await post(open, token, { query, extensions });
    expect(withText.body).toEqual({ data: { viewer: { tenant: { slug: 'apq-a' } } } });
    const hit = await post(open, token, { extensions });
    expect(hit).toMatchObject({ status: 200, body: { data: { viewer: { tenant: { slug: 'apq-a' } } } } });
  });

  it('keeps what one tenant registered from every other tenant: their hash is unknown to tenant B', async () => {
    const query = freshQuery();
    const extensions = await persisted(query);
    await post(open, await open.token(a.owner.id, a.slug), { query, extensions });
    expect((await post(open, await open.token(a.member.id, a.slug), { extensions })).body.data).toBeTruthy();
    expect((await post(open, await open.token(b.owner.id, b.slug), { extensions })).body.errors).toMatchObject([notFound]);
  });

  it('registers nothing for an anonymous caller, a hash that is not the text’s, or a document that does not validate', async () => {
    const token = await open.token(a.owner.id, a.slug);
    const query = freshQuery();
    const extensions = await persisted(query);
    expect((await post(open, undefined, { query, extensions })).status).toBe(401);
    expect((await post(open, token, { extensions })).body.errors).toMatchObject([notFound]);

    const other = freshQuery();
    const mismatch = await post(open, token, { query: other, extensions });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await post(open, token, { extensions })).body.errors).toMatchObject([notFound]);

    const invalid = '{ viewer { nope } }';
    const invalidExtensions = await persisted(invalid);
    expect((await post(open, token, { query: invalid, extensions: invalidExtensions })).body.errors?.length).toBe(1);
    expect((await post(open, token, { extensions: invalidExtensions })).body.errors).toMatchObject([notFound]);
  });

  it('registers a document sent over graphql-ws the same way', async () => {
    const token = await open.token(a.owner.id, a.slug);
    const query = freshQuery();
    const socket = await connectRaw(open.url, token);
    try {
      socket.messages.length = 0;
      const extensions = await persisted(query);
      const send = (id: string, payload: object) => socket.send({ id, type: 'subscribe', payload });
      send('miss', { query: '', extensions });
      await waitFor(() => socket.messagesFor('miss').length > 0, 5_000, 'an answer');
      expect(socket.messagesFor('miss')[0]).toMatchObject({ type: 'error', payload: [notFound] });
      send('register', { query, extensions });
      await waitFor(() => socket.messagesFor('register').some((m) => m.type === 'complete'), 5_000, 'complete');
      expect((await post(open, token, { extensions })).body).toEqual({ data: { viewer: { tenant: { slug: 'apq-a' } } } });
    } finally {
      await socket.close();
    }
  });
});

describe('hashes that name nothing', () => {
  it('answers PERSISTED_QUERY_NOT_FOUND for a hash that is a property every object has', async () => {
    for (const server of [open, strict]) {
      const token = await server.token(a.owner.id, a.slug);
      for (const sha256Hash of ['__proto__', 'constructor', 'toString']) {
        const answer = await post(server, token, { extensions: { persistedQuery: { version: 1, sha256Hash } } });
        expect(answer.body.errors, sha256Hash).toMatchObject([notFound]);
      }
    }
  });
});

describe('persisted query versions', () => {
  // The protocol has only version 1. Apollo Server answers any other with a 400 "Unsupported
  // persisted query version"; Apollo Client's PersistedQueryLink retries (with the text) only on
  // PersistedQueryNotFound / PersistedQueryNotSupported, so this error ends the request — no loop.
  const unsupported = { message: 'Unsupported persisted query version', extensions: { code: 'BAD_USER_INPUT' } };
  const mutation = 'mutation ApqVersion($input: CreateProjectInput!) { createProject(input: $input) { id } }';
  const variables = { input: { name: 'made by an unsupported persisted query' } };

  it('refuses any version but 1 with BAD_USER_INPUT and a 400, running and registering nothing, with or without the text', async () => {
    const sha256Hash = await operationHash(mutation);
    for (const server of [open, strict]) {
      const token = await server.token(a.owner.id, a.slug);
      for (const version of [2, 0, '1', null]) {
        const extensions = { persistedQuery: { version, sha256Hash } };
        for (const body of [
          { query: mutation, variables, extensions },
          { variables, extensions },
        ]) {
          const answer = await post(server, token, body);
          const what = `${server === open ? 'open' : 'strict'}, version ${version}, ${'query' in body ? 'with' : 'without'} text`;
          expect(answer.status, what).toBe(400);
          expect(answer.body, what).toEqual({ errors: [unsupported] });
        }
      }
      expect(
        (await post(server, token, { extensions: { persistedQuery: { version: 1, sha256Hash } } })).body.errors,
      ).toMatchObject([notFound]);
    }
    expect(await database.prisma.project.count({ where: { name: variables.input.name } })).toBe(0);
  });

  it('refuses it over graphql-ws the same way', async () => {
    const token = await open.token(a.owner.id, a.slug);
    const socket = await connectRaw(open.url, token);
    try {
      const extensions = { persistedQuery: { version: 2, sha256Hash: await operationHash(mutation) } };
      socket.send({ id: 'v2', type: 'subscribe', payload: { query: mutation, variables, extensions } });
      await waitFor(() => socket.messagesFor('v2').length > 0, 5_000, 'an answer');
      expect(socket.messagesFor('v2')[0]).toMatchObject({ type: 'error', payload: [unsupported] });
    } finally {
      await socket.close();
    }
    expect(await database.prisma.project.count({ where: { name: variables.input.name } })).toBe(0);
  });
});

describe('automatic persisted queries, when only persisted operations run', () => {
  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, refuses the text sent after it and registers nothing', async () => {
    const token = await strict.token(a.owner.id, a.slug);
    const query = freshQuery();
    const extensions = await persisted(query);
    expect((await post(strict, token, { extensions })).body.errors).toMatchObject([notFound]);
    const withText = await post(strict, token, { query, extensions });
    expect(withText.status).toBe(400);
    expect(withText.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_OPERATION_REQUIRED');
    expect((await post(strict, token, { extensions })).body.errors).toMatchObject([notFound]);
  });
});

describe('automatic persisted queries through Redis', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url);
    const store = () => createRedisDocumentStore(client, { logger: createLogger('silent') });
    first = await startTestServer({ database, persistedDocuments: store() });
    second = await startTestServer({ database, persistedDocuments: store() });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    client?.disconnect();
    await redis?.destroy();
  });

  it('finds on one instance a document registered on another, under a namespaced key that expires', async () => {
    const query = freshQuery();
    const extensions = await persisted(query);
    await post(first, await first.token(a.owner.id, a.slug), { query, extensions });
    // Registered as the answer goes out: the other instance may ask Redis a moment before it is there.
    const token = await second.token(a.owner.id, a.slug);
    let hit = await post(second, token, { extensions });
    for (let tries = 0; hit.body.errors && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      hit = await post(second, token, { extensions });
    }
    expect(hit.body).toEqual({ data: { viewer: { tenant: { slug: 'apq-a' } } } });
    const keys = await client.keys('*');
    expect(keys).toHaveLength(1);
    expect(keys[0]?.startsWith(`tenantgraph:apq:t:${a.id}`)).toBe(true);
    expect(await client.ttl(keys[0] ?? '')).toBeGreaterThan(0);
  });
});
