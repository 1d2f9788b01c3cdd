import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let token: string;
let projectId: string;
let taskIds: string[];
let tenantId: string;

beforeAll(async () => {
  // Registry answers stay warm for the whole file: a refresh between two requests of a comparison
  // (the default TTL is 5 s; a loaded machine takes that long) would count as their SQL.
  server = await startTestServer({ registryTtlMs: 60_000 });
  const tenant = await createTenantFixture(server.database, { slug: 'stmt', projects: 12, tasksPerProject: 12 });
  await createTenantFixture(server.database, { slug: 'stmt-other', projects: 3, tasksPerProject: 3 });
  token = await server.token(tenant.owner.id, tenant.slug);
  projectId = tenant.projectIds[0] ?? '';
  taskIds = tenant.taskIds;
  tenantId = tenant.id;
});
afterAll(() => server?.close());

async function statementsFor(query: string): Promise<string[]> {
  const before = server.database.statements.length;
  const { body } = await server.request(query, { token });
  expect(body.errors).toBeUndefined();
  return server.database.statements.slice(before);
}

const nested = (size: number) =>
  `{ projects(first: ${size}) { totalCount edges { node { name tasks(first: ${size}) { totalCount edges { node {
      title project { name } assignee { name } comments(first: 5) { totalCount edges { node { body author { name } } } } } } } } } } }`;

describe('SQL statements per request', () => {
  it('stay the same whatever the page size (no N+1), with the registry warm', async () => {
    await statementsFor(nested(1)); // warms the registry
    const small = await statementsFor(nested(2));
    const large = await statementsFor(nested(12));
    expect(large.length).toBe(small.length);
    // Every statement ran inside a tenant transaction that first set the tenant and the role.
    const setups = large.filter((sql) => sql.includes("set_config('role'") || sql.includes('set_config($1'));
    expect(setups.length).toBeGreaterThan(0);
    expect(large.some((sql) => /registry|FROM "public"."tenants"/.test(sql) && !sql.includes('set_config'))).toBe(false);
  });

  it('a nested page is one statement, whatever its size: each list a LATERAL join with its own LIMIT', async () => {
    // The benchmark's nested read: projects → tasks → assignee, and each task's comment count.
    const read = (size: number) => `{ projects(first: ${size}) { edges { node { name tasks(first: ${size}) { edges { node {
      title assignee { name } comments { totalCount } } } } } } } }`;
    // The same read through `nodes` (no edge objects) is the same one statement.
    const readByNodes = (size: number) => `{ projects(first: ${size}) { nodes { name tasks(first: ${size}) { nodes {
      title assignee { name } comments { totalCount } } } } } }`;
    await statementsFor(read(1));
    for (const query of [read(2), read(12), readByNodes(2), readByNodes(12)]) {
      const statements = (await statementsFor(query)).filter((sql) => !sql.includes('set_config'));
      expect(statements).toHaveLength(1);
      // The count is counted there, not loaded: no comment row travels for `comments { totalCount }`.
      expect(statements[0]).toMatch(/LEFT JOIN LATERAL \(SELECT COUNT\(\*\)[^)]*FROM "public"."comments"/);
      expect(statements[0]).not.toMatch(/JSONB_BUILD_OBJECT\('id', "t\d+"."id", 'tenantId', "t\d+"."tenant_id", 'taskId'/);
    }
  });

  it('a list of tasks with project, assignee and comment count is constant too', async () => {
    const query = (size: number) =>
      `{ tasks(first: ${size}) { edges { node { title project { name } assignee { name } comments { totalCount } } } } }`;
    await statementsFor(query(1));
    expect((await statementsFor(query(100))).length).toBe((await statementsFor(query(3))).length);
  });

  it('reads by id in the same tick go out side by side, each behind its own settings, not queued in one transaction', async () => {
    // Prisma would batch the two findUniques of one tick and, unable to merge them (the tenant
    // predicate), run them one after another in a transaction: the tenant client reads them as first rows.
    const query = `{ a: task(id: "${globalId('Task', taskIds[0] ?? '')}") { title } b: task(id: "${globalId('Task', taskIds[1] ?? '')}") { title } }`;
    await statementsFor(query);
    const statements = await statementsFor(query);
    expect(statements.filter((sql) => !sql.includes('set_config'))).toHaveLength(2);
    expect(statements.filter((sql) => sql.includes('set_config'))).toHaveLength(2);
  });

  it('viewer costs none at all with the registry warm: user and tenant come from the resolution', async () => {
    await statementsFor('{ viewer { role } }'); // warms the registry
    const statements = await statementsFor('{ viewer { role user { id email name } tenant { id slug name plan } } }');
    expect(statements).toEqual([]);
    const { body } = await server.request<{ viewer: { user: { name: string }; tenant: { slug: string; plan: string } } }>(
      '{ viewer { user { name } tenant { slug plan } } }',
      { token },
    );
    expect(body.data?.viewer).toEqual({
      user: { name: expect.stringContaining('OWNER of stmt') },
      tenant: { slug: 'stmt', plan: 'free' },
    });
  });

  it('a page of members is one statement with its LIMIT, users joined, however many members the tenant has', async () => {
    await server.database.sql.query(
      `WITH made AS (
         INSERT INTO users (email, name) SELECT 'crowd-' || n || '@stmt.test', 'Crowd ' || n FROM generate_series(1, 500) AS n
         RETURNING id)
       INSERT INTO memberships (tenant_id, user_id, role) SELECT $1::uuid, id, 'VIEWER' FROM made`,
      [tenantId],
    );
    const page = '{ members(first: 2) { totalCount nodes { role user { name } } } }';
    const statements = (await statementsFor(page)).filter((sql) => !sql.includes('set_config'));
    // The page and its count: no statement loads every membership.
    expect(statements).toHaveLength(2);
    expect(statements.find((sql) => sql.includes('JSONB_BUILD_OBJECT'))).toMatch(/FROM "public"."memberships"[\s\S]*LIMIT \$\d+/);
    const { body } = await server.request<{ members: { totalCount: number; nodes: unknown[] } }>(page, { token });
    expect(body.data?.members.totalCount).toBe(503);
    expect(body.data?.members.nodes).toHaveLength(2);
  });

  it('createTask is one statement: the insert itself checks the project (foreign key, archived trigger)', async () => {
    const create = (title: string) =>
      `mutation { createTask(input: { projectId: "${globalId('Project', projectId)}", title: "${title}" }) { id title } }`;
    await statementsFor(create('warm'));
    const statements = (await statementsFor(create('counted'))).filter((sql) => !sql.includes('set_config'));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^INSERT INTO "public"."tasks"/);
  });
});
