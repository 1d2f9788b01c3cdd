import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadOrCreateDevSigningKey } from '../../src/auth/dev-signing-key.js';
import { issueDevToken } from '../../src/auth/issue-token.js';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/create-database.js';
import { prepareDatabase } from '../../src/db/prepare-database.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { globalId } from '../helpers/test-server.js';

// The real server process on a PostgreSQL of the test's own, which the test then hurts the way
// production does: backends terminated under load (failover, pg_terminate_backend, idle timeouts)
// and the server stopped and started again. The process must stay up, answer UNAVAILABLE while
// PostgreSQL is away, recover by itself, keep every write it acknowledged and cross no data.

let postgres: PrivatePostgres;
let database: Database;
let server: ServerProcess;
let dataDir: string;
let a: TenantFixture;
let b: TenantFixture;
const tokens: Record<string, string> = {};

const DATABASE = 'tenantgraph_faults';

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const url = new URL(postgres.url);
  url.pathname = `/${DATABASE}`;
  database = await createDatabase({ databaseUrl: url.toString(), poolSize: 2 });
  await prepareDatabase(database);
  a = await createTenantFixture(database, { slug: 'faults-a', projects: 2, tasksPerProject: 2 });
  b = await createTenantFixture(database, { slug: 'faults-b', projects: 2, tasksPerProject: 2 });

  dataDir = await mkdtemp(join(tmpdir(), 'tg-faults-'));
  const key = await loadOrCreateDevSigningKey(dataDir);
  const { jwt } = loadConfig({});
  for (const tenant of [a, b]) {
    tokens[tenant.slug] = await issueDevToken(key, { ...jwt, userId: tenant.owner.id, tenant: tenant.slug, ttl: '1h' });
  }
  server = await startServerProcess({ DATABASE_URL: url.toString(), DATA_DIR: dataDir, REGISTRY_TTL_MS: '1000' });
});

afterAll(async () => {
  await server?.stop();
  await database?.close().catch(() => {});
  await postgres?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
  ms: number;
}

async function send(tenant: TenantFixture, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[tenant.slug]}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json(), ms: performance.now() - started };
}

const PROJECTS = '{ projects(first: 10) { edges { node { id tasks(first: 10) { edges { node { id } } } } } } }';
const CREATE_TASK = 'mutation ($input: CreateTaskInput!) { createTask(input: $input) { id } }';

/** The project and task ids (database ids) an answer shows, to compare with what the tenant owns. */
function idsIn(answer: Answer): string[] {
  const projects = (
    answer.body.data?.projects as { edges: { node: { id: string; tasks: { edges: { node: { id: string } }[] } } }[] }
  )?.edges;
  const raw = (projects ?? []).flatMap(({ node }) => [node.id, ...node.tasks.edges.map((edge) => edge.node.id)]);
  return raw.map((id) => decodeGlobalID(id).id);
}

/** Opens a websocket, sends connection_init with `token`, and resolves with the code it is closed with. */
async function websocketCloseCode(token: string): Promise<number> {
  const socket = new WebSocket(server.url.replace('http', 'ws'), 'graphql-transport-ws');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('open', resolve));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
  return closed;
}

/** Waits until `tenant` reads its projects again; how long it took. */
async function recovered(tenant: TenantFixture, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answer = await send(tenant, PROJECTS).catch(() => undefined);
    if (answer?.status === 200 && !answer.body.errors) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not recovered within ${withinMs} ms: ${JSON.stringify(answer?.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL ending the server’s connections', () => {
  it('under load: the process stays up, answers UNAVAILABLE or the right data, keeps acknowledged writes, recovers', async () => {
    const acknowledged: { tenant: TenantFixture; taskId: string }[] = [];
    // Every id each tenant was shown; checked against the database once the dust settles.
    const seen = new Map<TenantFixture, Set<string>>([
      [a, new Set()],
      [b, new Set()],
    ]);
    const statuses = new Map<string, number>();
    let running = true;

    const worker = async (tenant: TenantFixture, index: number) => {
      for (let i = 0; running; i++) {
        const write = (i + index) % 3 === 0;
        const answer = write
          ? await send(tenant, CREATE_TASK, {
              input: { projectId: globalId('Project', tenant.projectIds[0] ?? ''), title: `fault ${index}-${i}` },
            })
          : await send(tenant, PROJECTS);
        const code = answer.body.errors?.[0]?.extensions?.code ?? 'OK';
        statuses.set(`${answer.status} ${code}`, (statuses.get(`${answer.status} ${code}`) ?? 0) + 1);
        const created = answer.body.data?.createTask as { id: string } | undefined;
        if (write && code === 'OK' && created) acknowledged.push({ tenant, taskId: decodeGlobalID(created.id).id });
        if (!write) for (const id of idsIn(answer)) seen.get(tenant)?.add(id);
      }
    };
    const workers = Array.from({ length: 8 }, (_, i) => worker(i % 2 ? a : b, i));
    let terminated = 0;
    for (let round = 0; round < 8; round++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      terminated += await postgres.terminateBackends(DATABASE);
    }
    running = false;
    await Promise.all(workers);

    expect(terminated).toBeGreaterThan(8);
    expect(server.alive()).toBe(true);
    expect(acknowledged.length, JSON.stringify([...statuses])).toBeGreaterThan(0);
    // Every answer is the data or a retryable UNAVAILABLE: never a 500 or a dropped connection.
    for (const key of statuses.keys()) expect(['200 OK', '503 UNAVAILABLE']).toContain(key);
    expect(statuses.get('200 OK') ?? 0).toBeGreaterThan(0);
    expect(await recovered(a, 5_000)).toBeLessThan(5_000);
    expect(await recovered(b, 5_000)).toBeLessThan(5_000);

    const stored = await database.prisma.task.findMany({
      where: { id: { in: acknowledged.map((write) => write.taskId) } },
      select: { id: true, tenantId: true },
    });
    const tenantOf = new Map(stored.map((task) => [task.id, task.tenantId]));
    for (const write of acknowledged) expect(tenantOf.get(write.taskId)).toBe(write.tenant.id);
    for (const [tenant, ids] of seen) {
      const shown = [...ids];
      const rows = [
        ...(await database.prisma.project.findMany({ where: { id: { in: shown } }, select: { tenantId: true } })),
        ...(await database.prisma.task.findMany({ where: { id: { in: shown } }, select: { tenantId: true } })),
      ];
      expect(rows).toHaveLength(shown.length);
      expect(new Set(rows.map((row) => row.tenantId))).toEqual(new Set([tenant.id]));
    }
    expect(server.lastResortLines()).toEqual([]);
  });
});

describe('PostgreSQL stopped, then started again', () => {
  it('answers UNAVAILABLE quickly and /readyz says so while it is away; recovers by itself when it returns', async () => {
    await postgres.stop('fast');
    try {
      for (const tenant of [a, b]) {
        const answer = await send(tenant, PROJECTS);
        expect(answer.status).toBe(503);
        expect(answer.body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAVAILABLE']);
        expect(answer.ms).toBeLessThan(5_000);
      }
      const ready = await fetch(new URL('/readyz', server.url));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', checks: { database: false } });
      // A websocket is told to try again later (1013), not that it is forbidden, once the registry's
      // answers (REGISTRY_TTL_MS 1000) have expired.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await websocketCloseCode(tokens[a.slug] as string)).toBe(1013);
    } finally {
      await postgres.start();
    }
    await recovered(a, 10_000);
    await recovered(b, 10_000);
    const ready = await fetch(new URL('/readyz', server.url));
    expect(ready.status).toBe(200);
    expect(server.alive()).toBe(true);
    expect(server.lastResortLines()).toEqual([]);
  });
});
