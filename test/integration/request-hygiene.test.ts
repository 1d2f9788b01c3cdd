import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient as createSdk } from '../../src/sdk/index.js';
import { capturedLogs } from '../helpers/captured-logs.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { subscribe, waitFor } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
let token: string;
const { logger, lines: logLines } = capturedLogs();

beforeAll(async () => {
  server = await startTestServer({ logger });
  a = await createTenantFixture(server.database, { slug: 'hygiene', projects: 1, tasksPerProject: 1 });
  token = await server.token(a.owner.id, a.slug);
});
afterAll(() => server?.close());

const codes = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.map((error) => error.extensions?.code);

describe('abusive or malformed operations are refused before any SQL', () => {
  it('a query nested deeper than the limit, or with too many aliases', async () => {
    // The caller is resolved first (registry, cached); the operation itself must then run nothing.
    await server.request('{ viewer { role } }', { token });
    const before = server.database.statements.length;
    const deep = await server.request(
      '{ projects { edges { node { tasks { edges { node { project { tasks { edges { node { project { tasks { edges { node { title } } } } } } } } } } } } } } }',
      { token },
    );
    expect(codes(deep.body)).toEqual(['BAD_USER_INPUT']);
    expect(deep.body.errors?.[0]?.message).toMatch(/at most 12 are allowed/);
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: viewer { role }`).join(' ');
    const wide = await server.request(`{ ${aliases} }`, { token });
    expect(wide.body.errors?.[0]?.message).toBe('Query uses 31 aliases; at most 30 are allowed');
    expect(server.database.statements.length).toBe(before);
  });

  it('bad pagination arguments and undecodable ids are BAD_USER_INPUT with a generic message, naming the argument', async () => {
    for (const [query, fields] of [
      ['{ projects(first: -1) { totalCount } }', [{ field: 'first', message: 'must not be negative' }]],
      [
        '{ projects(first: 2, after: "not-a-cursor") { totalCount } }',
        [{ field: 'after', message: 'must be a cursor this connection returned' }],
      ],
      [
        '{ projects(first: 2, before: "not-a-cursor") { totalCount } }',
        [
          { field: 'before', message: 'must be a cursor this connection returned' },
          { field: 'first', message: 'cannot be combined with before' },
        ],
      ],
      ['{ node(id: "%%%") { id } }', [{ field: 'id', message: 'must be an id this API returned' }]],
    ] as const) {
      const { body } = await server.request(query, { token });
      expect(codes(body)).toEqual(['BAD_USER_INPUT']);
      expect(body.errors?.[0]?.message).toBe('Invalid input');
      expect(body.errors?.[0]?.extensions?.fields).toEqual(fields);
    }
  });

  it('a page never exceeds the maximum size of 100 (asking for more is refused: bad-arguments.test.ts)', async () => {
    const big = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 101 });
    const { body } = await server.request<{
      tasks: { totalCount: number; edges: unknown[]; pageInfo: { hasNextPage: boolean } };
    }>('{ tasks(first: 100) { totalCount edges { node { id } } pageInfo { hasNextPage } } }', {
      token: await server.token(big.owner.id, big.slug),
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.tasks.totalCount).toBe(101);
    expect(body.data?.tasks.edges).toHaveLength(100);
    expect(body.data?.tasks.pageInfo.hasNextPage).toBe(true);
  });
});

describe('logs', () => {
  it('give every operation its request id, tenant, user, operation name and duration; never the token', async () => {
    await server.request('query ListProjects { projects(first: 1) { totalCount } }', {
      token,
      headers: { 'x-request-id': 'log-test-1' },
    });
    const line = logLines.find((entry) => entry.requestId === 'log-test-1' && entry.msg === 'graphql operation');
    expect(line).toMatchObject({ tenantId: a.id, userId: a.owner.id, operationName: 'ListProjects', errors: 0 });
    expect(typeof line?.durationMs).toBe('number');
    expect(JSON.stringify(logLines)).not.toContain(token);
  });

  it('give a subscription a line when it starts and one when it ends, with its events, over websocket as over HTTP', async () => {
    const projectId = globalId('Project', a.projectIds[0] ?? '');
    const started = () => logLines.filter((entry) => entry.msg === 'graphql subscription started' && entry.tenantId === a.id);
    const ended = () => logLines.filter((entry) => entry.msg === 'graphql subscription ended' && entry.tenantId === a.id);
    const before = { started: started().length, ended: ended().length };
    const subscriber = subscribe(server.url, token, 'TaskChanged', { projectId });
    await subscriber.connected;
    await waitFor(() => started().length > before.started, 5_000, 'the started line');
    expect(started().at(-1)).toMatchObject({ userId: a.owner.id, operationName: 'TaskChanged' });
    expect(typeof started().at(-1)?.requestId).toBe('string');

    const { sdk } = createSdk({ url: server.url, token });
    const created = await sdk.CreateTask({ input: { projectId, title: 'Logged' } });
    if (!created.ok) throw new Error(created.error.message);
    await subscriber.received(1);
    await subscriber.dispose();
    await waitFor(() => ended().length > before.ended, 5_000, 'the ended line');
    expect(ended().at(-1)).toMatchObject({ userId: a.owner.id, operationName: 'TaskChanged', events: 1, errors: 0 });
    expect(ended().at(-1)?.durationMs).toBeGreaterThan(0);
    expect(JSON.stringify(logLines)).not.toContain(token);

    // Over server-sent events: the HTTP request's id, and the end when the client goes away.
    const leave = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      signal: leave.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        'x-request-id': 'sse-log-1',
      },
      body: JSON.stringify({ query: 'subscription Watch { projectChanged { kind } }' }),
    });
    expect(response.status).toBe(200);
    const bySse = (msg: string) => logLines.find((entry) => entry.msg === msg && entry.requestId === 'sse-log-1');
    await waitFor(() => bySse('graphql subscription started') !== undefined, 5_000, 'the SSE started line');
    expect(bySse('graphql subscription started')).toMatchObject({ tenantId: a.id, operationName: 'Watch' });
    leave.abort();
    await waitFor(() => bySse('graphql subscription ended') !== undefined, 5_000, 'the SSE ended line');
    expect(bySse('graphql subscription ended')).toMatchObject({ tenantId: a.id, operationName: 'Watch', events: 0 });
  });

  it('record why a request was rejected, which the client is not told', async () => {
    const { body } = await server.request('{ viewer { role } }', {
      token: await server.token(a.owner.id, 'no-such-tenant'),
      headers: { 'x-request-id': 'log-test-2' },
    });
    expect(body.errors?.[0]?.message).toBe('Access denied');
    const line = logLines.find((entry) => entry.requestId === 'log-test-2');
    expect(line).toMatchObject({ status: 403, reason: 'unknown tenant no-such-tenant' });
  });
});

describe('batched requests', () => {
  it('are refused with the answer the README shows, running none of the operations', async () => {
    await server.request('{ viewer { role } }', { token }); // warms the registry: the refusal then runs no SQL at all
    const before = server.database.statements.length;
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify([{ query: '{ viewer { role } }' }, { query: '{ viewer { role } }' }]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Batching is not supported.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(server.database.statements.slice(before)).toEqual([]);
  });
});

describe('a body that is not JSON', () => {
  it("is refused with a generic message and code, not the parser's words or the body echoed back", async () => {
    await server.request('{ viewer { role } }', { token });
    const before = server.database.statements.length;
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"query":"{ viewer { secret-looking-text ',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(text).not.toContain('secret-looking-text');
    expect(server.database.statements.slice(before)).toEqual([]);
  });
});

describe('a browser app', () => {
  it('may read the request id of a cross-origin response (Access-Control-Expose-Headers)', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'https://app.example' },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase().split(/,\s*/)).toContain('x-request-id');
  });
});

describe('a shared HTTP cache', () => {
  it('is told no answer may be stored, by GET or POST, refused or not: the same URL means another thing per caller', async () => {
    const query = encodeURIComponent('{ viewer { role } }');
    const answers = [
      await fetch(`${server.url}?query=${query}`, { headers: { authorization: `Bearer ${token}` } }),
      await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      }),
      await fetch(`${server.url}?query=${query}`),
    ];
    expect(answers.map((response) => response.status)).toEqual([200, 200, 401]);
    for (const response of answers) {
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(response.headers.get('vary')?.toLowerCase()).toContain('authorization');
    }
  });
});
