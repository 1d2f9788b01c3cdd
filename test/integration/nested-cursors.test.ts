import { formatPrismaCursor } from '@pothos/plugin-prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// A cursor inside a nested connection (`project(id) { tasks(after: …) }`) is rewritten into a keyset
// condition (src/db/nested-cursors.ts) so that the page stays one joined statement. Its pages must be
// exactly Prisma's own cursor pages, ties in the order included.

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let token: string;
let projectId: string;
/** The project's tasks in the connection's order (created_at, id), read with Prisma's own cursor paging as reference. */
let ordered: string[];

beforeAll(async () => {
  server = await startTestServer({ registryTtlMs: 60_000 });
  a = await createTenantFixture(server.database, { slug: 'cursor-a', projects: 1, tasksPerProject: 0 });
  b = await createTenantFixture(server.database, { slug: 'cursor-b', projects: 1, tasksPerProject: 2 });
  token = await server.token(a.owner.id, a.slug);
  await server.request('{ viewer { role } }', { token }); // the registry warm: statements counted below are the read's
  projectId = a.projectIds[0] as string;
  // Twelve tasks made by one statement share one created_at: the order's ties are broken by id.
  await server.database.sql.query(
    `INSERT INTO tasks (tenant_id, project_id, title) SELECT $1, $2, 'Task ' || n FROM generate_series(1, 12) AS n`,
    [a.id, projectId],
  );
  await server.database.sql.query(
    `INSERT INTO comments (tenant_id, task_id, author_id, body)
     SELECT tenant_id, id, $2, 'c' FROM tasks WHERE project_id = $1 AND title IN ('Task 3', 'Task 7')`,
    [projectId, a.owner.id],
  );
  ordered = (
    await server.database.prisma.task.findMany({ where: { projectId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  ).map((task) => task.id);
});
afterAll(() => server?.close());

const PAGE = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  project(id: $id) { tasks(first: $first, after: $after, last: $last, before: $before) {
    edges { node { id comments { totalCount } } }
    pageInfo { hasNextPage hasPreviousPage }
  } } }`;

interface Page {
  project: {
    tasks: {
      edges: { node: { id: string; comments: { totalCount: number } } }[];
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean };
    };
  };
}

const cursorOf = (taskId: string) => formatPrismaCursor({ id: taskId }, 'id');
const taskIdOf = (node: { id: string }) =>
  Buffer.from(node.id, 'base64')
    .toString('utf8')
    .replace(/^Task:/, '');

async function page(variables: Record<string, unknown>) {
  const before = server.database.statements.length;
  const { body } = await server.request<Page>(PAGE, { token, variables: { id: globalId('Project', projectId), ...variables } });
  expect(body.errors).toBeUndefined();
  const statements = server.database.statements.slice(before).filter((sql) => !sql.includes('set_config'));
  const tasks = body.data?.project.tasks;
  return { ids: tasks?.edges.map((edge) => taskIdOf(edge.node)) ?? [], tasks, statements };
}

/** Prisma's own cursor paging, on the system client: the reference each page must equal. */
async function prismaPage(cursor: string, take: number): Promise<string[]> {
  const rows = await server.database.prisma.task.findMany({
    where: { projectId },
    cursor: { id: cursor },
    skip: 1,
    take,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((row) => row.id);
}

describe('a cursor inside a nested connection', () => {
  it('pages forward exactly as Prisma’s cursor does, in one joined statement after the cursor row’s lookup', async () => {
    for (const at of [0, 3, 8, 10]) {
      const cursor = ordered[at] as string;
      const { ids, tasks, statements } = await page({ first: 4, after: cursorOf(cursor) });
      expect(ids).toEqual((await prismaPage(cursor, 4)).slice(0, 4));
      expect(ids).toEqual(ordered.slice(at + 1, at + 5));
      expect(tasks?.pageInfo.hasNextPage).toBe(at + 5 < ordered.length);
      expect(statements).toHaveLength(2);
      expect(statements[1]).toMatch(/LEFT JOIN LATERAL \(SELECT COUNT\(\*\)/);
    }
  });

  it('pages backward exactly as Prisma’s cursor does', async () => {
    for (const at of [11, 6, 2]) {
      const cursor = ordered[at] as string;
      const { ids, tasks } = await page({ last: 3, before: cursorOf(cursor) });
      expect(ids).toEqual((await prismaPage(cursor, -3)).slice(-3));
      expect(ids).toEqual(ordered.slice(Math.max(0, at - 3), at));
      expect(tasks?.pageInfo.hasPreviousPage).toBe(at - 3 > 0);
    }
  });

  it('counts each task’s comments on the page as the first page does', async () => {
    const { tasks } = await page({ first: 12, after: cursorOf(ordered[0] as string) });
    const counted = Object.fromEntries(tasks?.edges.map((edge) => [taskIdOf(edge.node), edge.node.comments.totalCount]) ?? []);
    const { tasks: first } = await page({ first: 12 });
    for (const edge of first?.edges ?? []) {
      const id = taskIdOf(edge.node);
      if (id in counted) expect(counted[id]).toBe(edge.node.comments.totalCount);
    }
    expect(Object.values(counted).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
  });

  it('gives an empty page for another tenant’s task as cursor, exactly as for one that does not exist', async () => {
    const foreign = await page({ first: 4, after: cursorOf(b.taskIds[0] as string) });
    const missing = await page({ first: 4, after: cursorOf('00000000-0000-4000-8000-000000000000') });
    expect(foreign.ids).toEqual([]);
    expect(missing.ids).toEqual([]);
    expect(foreign.tasks).toEqual(missing.tasks);
  });
});
