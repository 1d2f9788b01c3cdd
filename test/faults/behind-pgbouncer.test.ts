import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevSigningKey } from '../../src/auth/dev-signing-key.js';
import { issueDevToken } from '../../src/auth/issue-token.js';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/create-database.js';
import { prepareDatabase } from '../../src/db/prepare-database.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type PrivatePgBouncer, startPrivatePgBouncer } from '../helpers/private-pgbouncer.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { globalId } from '../helpers/test-server.js';

// Two server processes behind PgBouncer in transaction mode, in front of a PostgreSQL of the test's
// own (in both CI passes): a pooler may give each transaction another server connection, so
// nothing may rest on session state.

const NESTED =
  '{ viewer { tenant { slug } } projects(first: 5) { edges { node { name tasks(first: 5) { edges { node { title } } } } } } }';

describe('behind a transaction pooler', () => {
  let postgres: PrivatePostgres;
  let database: Database;
  let bouncer: PrivatePgBouncer;
  const servers: ServerProcess[] = [];
  let tenants: { fixture: TenantFixture; token: string }[];
  let direct: string;
  let dataDir: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    direct = postgres.url;
    database = await createDatabase({ databaseUrl: direct, poolSize: 4 });
    await prepareDatabase(database);
    const upstream = new URL(direct);
    bouncer = await startPrivatePgBouncer({ host: upstream.hostname, port: Number(upstream.port) });
    dataDir = await mkdtemp(join(tmpdir(), 'tenantgraph-bouncer-'));
    const environment = {
      DATABASE_URL: bouncer.urlOf(direct),
      DIRECT_DATABASE_URL: direct,
      DATA_DIR: dataDir,
      MIGRATE_ON_START: 'true',
    };
    // Two instances starting together: migrations (on the direct URL) and the start-up check
    // (through the pooler) of both.
    servers.push(...(await Promise.all([startServerProcess(environment), startServerProcess(environment)])));
    const key = await loadOrCreateDevSigningKey(dataDir);
    const { jwt } = loadConfig({});
    tenants = [];
    for (const slug of ['bouncer-a', 'bouncer-b', 'bouncer-c']) {
      const fixture = await createTenantFixture(database, { slug, projects: 2, tasksPerProject: 2 });
      tenants.push({ fixture, token: await issueDevToken(key, { ...jwt, userId: fixture.owner.id, tenant: slug, ttl: '1h' }) });
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await bouncer?.destroy();
    await database?.close();
    await postgres?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ask = async (server: ServerProcess, token: string, query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: unknown[] } };
  };

  it('serves interleaved tenants with no error and no crossed row', async () => {
    const answers = await Promise.all(
      Array.from({ length: 600 }, async (_, i) => {
        const { fixture, token } = tenants[i % tenants.length] as (typeof tenants)[number];
        const other = tenants[(i + 1) % tenants.length]?.fixture as TenantFixture;
        const server = servers[i % servers.length] as ServerProcess;
        const answer =
          i % 3 === 0
            ? await ask(server, token, 'query($id: ID!) { node(id: $id) { id } }', {
                id: globalId('Task', other.taskIds[0] ?? ''),
              })
            : await ask(server, token, NESTED);
        return { fixture, foreign: i % 3 === 0, answer };
      }),
    );
    for (const { fixture, foreign, answer } of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      const text = JSON.stringify(answer.body.data);
      if (foreign) expect(text).toBe('{"node":null}');
      for (const { fixture: other } of tenants) if (other !== fixture) expect(text).not.toContain(other.slug);
      if (!foreign) expect(text).toContain(fixture.slug);
    }
    for (const server of servers) expect(server.lastResortLines()).toEqual([]);
  }, 60_000);

  it('hears a suspension at once on every instance (LISTEN on the direct connection)', async () => {
    const { fixture, token } = tenants[0] as (typeof tenants)[number];
    for (const server of servers) expect((await ask(server, token, '{ viewer { role } }')).status).toBe(200);
    await database.sql.query(`UPDATE tenants SET status = 'SUSPENDED' WHERE id = $1`, [fixture.id]);
    try {
      for (const server of servers) {
        const deadline = Date.now() + 1_000;
        while ((await ask(server, token, '{ viewer { role } }')).status === 200 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect((await ask(server, token, '{ viewer { role } }')).status).toBe(403);
      }
    } finally {
      await database.sql.query(`UPDATE tenants SET status = 'ACTIVE' WHERE id = $1`, [fixture.id]);
    }
  });

  it('a pooler that keeps no prepared statement: one found missing goes again unnamed, every request answered, one warning at most', async () => {
    // Every server connection reset after each transaction: a statement prepared in one request is
    // gone by the next, wherever it lands — unless PgBouncer keeps prepared statements itself
    // (1.21 and later, with max_prepared_statements; Debian 12's 1.18 does not).
    const forgetful = await startPrivatePgBouncer({ host: new URL(direct).hostname, port: Number(new URL(direct).port) }, [
      'server_reset_query = DISCARD ALL',
      'server_reset_query_always = 1',
    ]);
    try {
      const server = await startServerProcess({
        DATABASE_URL: forgetful.urlOf(direct),
        DIRECT_DATABASE_URL: direct,
        DATABASE_PREPARED_STATEMENTS: 'on',
        DATA_DIR: dataDir,
        MIGRATE_ON_START: 'false',
      });
      servers.push(server);
      const missing = (entry: Record<string, unknown>) =>
        entry.level === 40 && /prepared statement was missing/.test(String(entry.msg));
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          tenants.map(async ({ fixture, token }) => ({ fixture, answer: await ask(server, token, NESTED) })),
        );
        for (const { fixture, answer } of answers) {
          expect(answer.status).toBe(200);
          expect(answer.body.errors).toBeUndefined();
          expect(JSON.stringify(answer.body.data)).toContain(fixture.slug);
        }
      }
      // Said once when it happened (a PgBouncer that keeps them gives no cause to).
      expect(server.logs.filter(missing).length).toBeLessThanOrEqual(1);
      expect(server.lastResortLines()).toEqual([]);
    } finally {
      await forgetful.destroy();
    }
  }, 60_000);

  it('says once, without DIRECT_DATABASE_URL, that LISTEN hears nothing through the pooler, and still serves', async () => {
    const server = await startServerProcess({
      DATABASE_URL: bouncer.urlOf(direct),
      DATA_DIR: dataDir,
      MIGRATE_ON_START: 'false',
    });
    servers.push(server);
    const neverHeard = (entry: Record<string, unknown>) =>
      entry.level === 40 /* warn */ && /never heard.*DIRECT_DATABASE_URL/.test(String(entry.msg));
    // Two heartbeats (5 s apart) unanswered, then the warning; the listener then tries a new connection.
    const deadline = Date.now() + 30_000;
    while (!server.logs.some(neverHeard) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.logs.filter(neverHeard)).toHaveLength(1);
    // Past the next miss and reconnection: still one warning, and nothing claims the notifications came back.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(server.logs.filter(neverHeard)).toHaveLength(1);
    const messages = server.logs.map((entry) => String(entry.msg));
    expect(messages.filter((msg) => /re-established|notifications lost|changes are pushed/.test(msg))).toEqual([]);
    const { token } = tenants[1] as (typeof tenants)[number];
    const answer = await ask(server, token, '{ viewer { tenant { slug } } }');
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(server.lastResortLines()).toEqual([]);
  }, 60_000);
});
