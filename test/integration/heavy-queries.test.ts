import { createClient as createWsClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabase } from '../../src/db/create-database.js';
import { prepareDatabase } from '../../src/db/prepare-database.js';
import { counterValue } from '../../src/observability/metrics.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { createTestDatabase, type TestDatabase, testDatabaseUrl } from '../helpers/test-database.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Queries whose cost reaches HEAVY_QUERY_COST run on a worker thread (src/heavy-queries/), with
// connections and tenant clients of its own. The lane needs PostgreSQL: on the PGlite pass this
// file starts a private one. What it answers must be exactly what the main thread would answer.

let privatePostgres: PrivatePostgres | undefined;
let database: TestDatabase;
let lane: TestServer;
let inline: TestServer;
let budgeted: TestServer;
let a: TenantFixture;
let b: TenantFixture;

async function postgresDatabase(): Promise<TestDatabase> {
  if (testDatabaseUrl) return createTestDatabase();
  privatePostgres = await startPrivatePostgres();
  const admin = new pg.Client({ connectionString: privatePostgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE heavy');
  await admin.end();
  const url = privatePostgres.url.replace(/\/postgres$/, '/heavy');
  const created = await createDatabase({ databaseUrl: url, poolSize: 5 });
  await prepareDatabase(created);
  return { ...created, url, statements: [], destroy: () => created.close() };
}

beforeAll(async () => {
  database = await postgresDatabase();
  a = await createTenantFixture(database, { slug: 'heavy-a', projects: 3, tasksPerProject: 4 });
  b = await createTenantFixture(database, { slug: 'heavy-b', projects: 2, tasksPerProject: 3 });
  const environment = { DATABASE_URL: database.url as string, HEAVY_QUERIES_PER_TENANT: '1', HEAVY_QUERY_CONCURRENCY: '2' };
  // No time budget here (share 1): the floods below test the turns and the queue, not the budget.
  lane = await startTestServer({ database, environment: { ...environment, HEAVY_QUERY_COST: '100', HEAVY_QUERY_SHARE: '1' } });
  inline = await startTestServer({ database, environment: { ...environment, HEAVY_QUERY_COST: '0' } });
  // A budget so small that one heavy read spends it for seconds, and a wait shorter than that.
  budgeted = await startTestServer({
    database,
    environment: {
      ...environment,
      HEAVY_QUERY_COST: '100',
      HEAVY_QUERY_SHARE: '0.001',
      HEAVY_QUERY_BURST_MS: '0',
      DATABASE_CLIENT_WAIT_MS: '1000',
    },
  });
}, 60_000);
afterAll(async () => {
  await lane?.close();
  await inline?.close();
  await budgeted?.close();
  await database?.destroy();
  await privatePostgres?.destroy();
});

const NESTED = `query Nested($after: String) { projects(first: 10) { totalCount edges { cursor node { id name
  tasks(first: 10, after: $after) { totalCount edges { node { id title assignee { name } comments { totalCount } } } } } } } }`;

type Caller = { userId: string; slug: string };

/** The same request to both servers (each with its own signing key): status and body must be identical. */
async function bothAnswer(query: string, caller: Caller, variables?: Record<string, unknown>, operationName?: string) {
  const before = counterValue('heavy_query');
  const fromLane = await lane.request(query, { token: await lane.token(caller.userId, caller.slug), variables, operationName });
  const laneUsed = counterValue('heavy_query') - before;
  const fromInline = await inline.request(query, {
    token: await inline.token(caller.userId, caller.slug),
    variables,
    operationName,
  });
  expect({ status: fromLane.status, body: fromLane.body }).toEqual({ status: fromInline.status, body: fromInline.body });
  return { ...fromLane, laneUsed };
}

describe('the heavy lane', () => {
  it("answers a heavy read exactly as the main thread does, with the caller's tenant's rows alone", async () => {
    const answer = await bothAnswer(NESTED, { userId: a.viewer.id, slug: a.slug });
    expect(answer.laneUsed).toBe(1);
    const text = JSON.stringify(answer.body);
    expect(text).toContain('heavy-a task 2.3');
    expect(text).not.toContain('heavy-b');
    expect((answer.body.data as { projects: { totalCount: number } }).projects.totalCount).toBe(3);
  });

  it('masks its errors as the main thread does: a bad cursor is BAD_USER_INPUT, another tenant’s id is absent', async () => {
    const caller = { userId: a.viewer.id, slug: a.slug };
    const badCursor = await bothAnswer(NESTED, caller, { after: 'not-a-cursor' });
    expect(badCursor.laneUsed).toBe(1);
    expect(badCursor.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = `{ node(id: "${globalId('Project', b.projectIds[0] as string)}") { id ... on Project { name
      tasks(first: 50) { edges { node { id title } } } } } projects(first: 50) { edges { node { tasks(first: 50) { totalCount } } } } }`;
    const answer = await bothAnswer(foreign, caller);
    expect(answer.laneUsed).toBe(1);
    expect(answer.body.data?.node).toBeNull();
  });

  it('answers a heavy query sent over a websocket with the same data and errors as over HTTP', async () => {
    const overHttp = await lane.request(NESTED, { token: await lane.token(a.viewer.id, a.slug), variables: { after: 'bad' } });
    const overHttpGood = await lane.request(NESTED, { token: await lane.token(a.viewer.id, a.slug) });
    const client = createWsClient({
      url: lane.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${await lane.token(a.viewer.id, a.slug)}` },
      retryAttempts: 0,
    });
    try {
      const before = counterValue('heavy_query');
      const run = (variables: Record<string, unknown>) =>
        new Promise<unknown>((resolve, reject) => {
          let result: unknown;
          client.subscribe(
            { query: NESTED, variables },
            { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
          );
        });
      const good = (await run({})) as { data: unknown };
      expect(good.data).toEqual(overHttpGood.body.data);
      expect(await run({ after: 'bad' })).toEqual(overHttp.body);
      expect(counterValue('heavy_query') - before).toBe(2);
    } finally {
      await client.dispose();
    }
  });

  it('leaves light queries and mutations on the main thread', async () => {
    const light = await bothAnswer('{ viewer { role } projects(first: 2) { edges { node { name } } } }', {
      userId: a.member.id,
      slug: a.slug,
    });
    const token = await lane.token(a.member.id, a.slug);
    expect(light.laneUsed).toBe(0);
    const before = counterValue('heavy_query');
    const created = await lane.request('mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }', {
      token,
      variables: { input: { projectId: globalId('Project', a.projectIds[0] as string), title: 'light' } },
    });
    expect(created.body.errors).toBeUndefined();
    expect(counterValue('heavy_query')).toBe(before);
  });

  it('refuses a read over the cost limit on the main thread, before any SQL, as before', async () => {
    const token = await lane.token(a.viewer.id, a.slug);
    const before = counterValue('heavy_query');
    const answer = await lane.request(
      '{ projects(first: 100) { edges { node { tasks(first: 100) { edges { node { comments(first: 100) { totalCount } } } } } } } }',
      { token },
    );
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
    expect(counterValue('heavy_query')).toBe(before);
  });

  it('measures the operation that runs, not the document’s first one', async () => {
    const token = await lane.token(a.viewer.id, a.slug);
    const over =
      '{ projects(first: 100) { edges { node { tasks(first: 100) { edges { node { comments(first: 100) { totalCount } } } } } } } }';
    const before = counterValue('heavy_query');
    // A cheap operation first, the one named over the limit: refused, with the named one's cost.
    const refused = await lane.request(`query Cheap { viewer { role } } query Costly ${over}`, {
      token,
      operationName: 'Costly',
    });
    const refusal = refused.body.errors?.[0]?.extensions as { code: string; cost: number; limit: number };
    expect(refusal.code).toBe('COST_LIMIT_EXCEEDED');
    expect(refusal.cost).toBeGreaterThan(refusal.limit);
    expect(counterValue('heavy_query')).toBe(before);
    // A heavy read named behind a light one goes to the lane; a light one named behind a heavy one does not.
    const caller = { userId: a.member.id, slug: a.slug };
    const heavy = await bothAnswer(`query Light { viewer { role } } ${NESTED}`, caller, undefined, 'Nested');
    expect(heavy.laneUsed).toBe(1);
    expect(heavy.body.errors).toBeUndefined();
    const light = await bothAnswer(`${NESTED} query Light { viewer { role } }`, caller, undefined, 'Light');
    expect(light.laneUsed).toBe(0);
    expect(light.body).toEqual({ data: { viewer: { role: 'MEMBER' } } });
  });

  it('refuses a tenant with 20 heavy reads already waiting RATE_LIMITED, 429 with retry-after', async () => {
    const flooder = await lane.token(a.viewer.id, a.slug);
    const answers = await Promise.all(Array.from({ length: 40 }, () => lane.request(NESTED, { token: flooder })));
    const refused = answers.filter((response) => response.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(refused[0]?.headers.get('retry-after')).toBe('1');
    expect(answers.every((response) => response.status === 200 || response.status === 429)).toBe(true);
  });

  it('serves tenants in turn: one tenant flooding heavy reads holds its one slot, another tenant goes ahead of the flood', async () => {
    const flooder = await lane.token(a.viewer.id, a.slug);
    const other = await lane.token(b.viewer.id, b.slug);
    const finished: string[] = [];
    const flood = Array.from({ length: 20 }, (_, i) =>
      lane.request(NESTED, { token: flooder }).then((response) => {
        finished.push(`flood ${i}`);
        return response;
      }),
    );
    // The flood is on its way (one at a time on the worker: HEAVY_QUERIES_PER_TENANT=1) before the other tenant asks.
    await new Promise((resolve) => setImmediate(resolve));
    const answer = await lane.request(NESTED, { token: other });
    finished.push('other');
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body)).toContain('heavy-b task 1.2');
    const flooded = await Promise.all(flood);
    expect(flooded.every((response) => response.status === 200 && !response.body.errors)).toBe(true);
    // First come, first served would have put it behind the twenty; in turn, it waits for the
    // flooder's running one (and those that started while it was on its way).
    expect(finished.indexOf('other')).toBeLessThan(10);
  });

  it('holds each tenant to its share of the worker: past it, RATE_LIMITED at once with when to come back; other tenants unaffected', async () => {
    const spender = await budgeted.token(a.viewer.id, a.slug);
    const first = await budgeted.request(NESTED, { token: spender });
    expect(first.status).toBe(200);
    // The read took at least a millisecond: at a share of 0.001 that is a second or more owed.
    const refused = await budgeted.request(NESTED, { token: spender });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const extensions = refused.body.errors?.[0]?.extensions as { retryAfterSeconds?: number } | undefined;
    expect(extensions?.retryAfterSeconds).toBe(retryAfter);
    // Light queries of the same tenant are not heavy-lane work: untouched by its budget.
    expect((await budgeted.request('{ viewer { role } }', { token: spender })).status).toBe(200);
    // Another tenant's heavy read runs at once.
    const other = await budgeted.request(NESTED, { token: await budgeted.token(b.viewer.id, b.slug) });
    expect(other.status).toBe(200);
    expect(JSON.stringify(other.body)).toContain('heavy-b task 1.2');
  });
});
