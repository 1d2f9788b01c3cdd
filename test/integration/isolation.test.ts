import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Result, type TypedSdk } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { dataOf } from '../helpers/results.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Two tenants with identical shapes; every test acts as A and asserts that nothing of B is seen,
// counted, changed or hinted at — and that B's data is exactly as it was.

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let tokenA: string;
/** Tenant A through the generated SDK: what a client app sees. */
let sdkA: TypedSdk;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'tenant-a', projects: 3, tasksPerProject: 3 });
  b = await createTenantFixture(server.database, { slug: 'tenant-b', projects: 2, tasksPerProject: 4 });
  tokenA = await server.token(a.owner.id, a.slug);
  sdkA = createClient({ url: server.url, token: tokenA }).sdk;
});
afterAll(() => server?.close());

// Raw HTTP for selections deeper than any SDK operation and for comparing exact response bodies.
const asA = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) =>
  server.request<T>(query, { token: tokenA, variables });

async function snapshotOfB() {
  const prisma = server.database.prisma;
  return {
    projects: await prisma.project.findMany({ where: { tenantId: b.id }, orderBy: { id: 'asc' } }),
    tasks: await prisma.task.findMany({ where: { tenantId: b.id }, orderBy: { id: 'asc' } }),
    comments: await prisma.comment.findMany({ where: { tenantId: b.id }, orderBy: { id: 'asc' } }),
  };
}

describe('reads', () => {
  it('tenant A lists and counts only its own projects', async () => {
    const { projects } = dataOf(await sdkA.Projects({ first: 50 }));
    expect(projects.totalCount).toBe(3);
    expect(projects.edges.map((edge) => edge.node.id).sort()).toEqual(a.projectIds.map((id) => globalId('Project', id)).sort());
    expect(dataOf(await sdkA.Projects({ first: 50, includeArchived: true })).projects.totalCount).toBe(4);
  });

  it('tenant A sees only its own tasks, comments, authors and assignees through nested relations and counts', async () => {
    const { body } = await asA<{
      projects: {
        edges: {
          node: {
            tasks: {
              totalCount: number;
              edges: {
                node: {
                  title: string;
                  project: { name: string };
                  assignee: { email: string } | null;
                  comments: { totalCount: number; edges: { node: { body: string; author: { email: string } } }[] };
                };
              }[];
            };
          };
        }[];
      };
    }>(
      // Pages of 10 hold all of the fixture's rows and stay within the cost limit (50 × 50 × 50 did not).
      `{ projects(first: 10) { edges { node { tasks(first: 10) { totalCount edges { node {
          title project { name } assignee { email }
          comments(first: 10) { totalCount edges { node { body author { email } } } } } } } } } } }`,
    );
    expect(body.errors).toBeUndefined();
    const projects = body.data?.projects.edges ?? [];
    expect(projects).toHaveLength(3);
    const tasks = projects.flatMap((project) => project.node.tasks.edges.map((edge) => edge.node));
    expect(projects.map((project) => project.node.tasks.totalCount)).toEqual([3, 3, 3]);
    expect(tasks).toHaveLength(9);
    for (const task of tasks) {
      expect(task.title.startsWith('tenant-a ')).toBe(true);
      expect(task.project.name.startsWith('tenant-a ')).toBe(true);
      expect([a.owner.email, a.member.email]).toContain(task.assignee?.email);
      expect(task.comments.totalCount).toBe(1);
      expect(task.comments.edges[0]?.node.body.startsWith('tenant-a ')).toBe(true);
      expect(task.comments.edges[0]?.node.author.email).toBe(a.owner.email);
    }
    expect(JSON.stringify(body)).not.toContain('tenant-b');
  });

  it('a connection’s `nodes` are exactly the rows of its `edges { node }`: tenant A’s, counts included', async () => {
    const selection = (list: 'edges { node {' | 'nodes {', close: '} }' | '}') =>
      `{ projects(first: 10) { totalCount ${list} id name tasks(first: 10) { totalCount ${list}
          id title assignee { email } comments(first: 10) { totalCount ${list} body author { email } ${close} } ${close} } ${close} } }`;
    type Page<T> = { totalCount: number; nodes?: T[]; edges?: { node: T }[] };
    type Comment = { body: string; author: { email: string } };
    type Task = { id: string; title: string; assignee: { email: string } | null; comments: Page<Comment> };
    type Project = { id: string; name: string; tasks: Page<Task> };
    const rows = <T>(page: Page<T>): T[] => page.nodes ?? (page.edges ?? []).map((edge) => edge.node);
    // Both shapes as one plain tree: every page as its count and its rows.
    const plain = (projects: Page<Project>) => ({
      totalCount: projects.totalCount,
      rows: rows(projects).map((project) => ({
        ...project,
        tasks: {
          totalCount: project.tasks.totalCount,
          rows: rows(project.tasks).map((task) => ({
            ...task,
            comments: { totalCount: task.comments.totalCount, rows: rows(task.comments) },
          })),
        },
      })),
    });
    const byEdges = await asA<{ projects: Page<Project> }>(selection('edges { node {', '} }'));
    const byNodes = await asA<{ projects: Page<Project> }>(selection('nodes {', '}'));
    expect(byEdges.body.errors).toBeUndefined();
    expect(byNodes.body.errors).toBeUndefined();
    const edgesTree = plain(byEdges.body.data?.projects as Page<Project>);
    expect(plain(byNodes.body.data?.projects as Page<Project>)).toEqual(edgesTree);
    expect(edgesTree.rows.map((project) => project.id).sort()).toEqual(a.projectIds.map((id) => globalId('Project', id)).sort());
    expect(edgesTree.rows.flatMap((project) => project.tasks.rows)).toHaveLength(9);
    expect(JSON.stringify(byNodes.body)).not.toContain('tenant-b');
  });

  it('members pages through exactly tenant A’s members; a cursor of a tenant B membership answers like one of none', async () => {
    const first = dataOf(await sdkA.Members({ first: 2 })).members;
    expect(first.totalCount).toBe(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = dataOf(await sdkA.Members({ first: 2, after: first.pageInfo.endCursor })).members;
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([...first.nodes, ...rest.nodes].map((member) => member.user.email).sort()).toEqual(
      [a.owner.email, a.member.email, a.viewer.email].sort(),
    );

    const theirs = await server.database.prisma.membership.findFirstOrThrow({ where: { tenantId: b.id }, select: { id: true } });
    const cursorOf = (id: string) => Buffer.from(`GPC:S:${id}`).toString('base64');
    const afterTheirs = await sdkA.Members({ after: cursorOf(theirs.id) });
    const afterNobodys = await sdkA.Members({ after: cursorOf('00000000-0000-4000-8000-000000000000') });
    expect(afterTheirs.ok).toBe(true);
    expect(afterTheirs).toEqual(afterNobodys);
    expect(JSON.stringify(afterTheirs)).not.toContain(b.owner.email);
  });

  it('project(id), task(id) and node(id) answer null for every kind of tenant B row, like for ids that never existed', async () => {
    const ids = [
      globalId('Project', b.projectIds[0] ?? ''),
      globalId('Task', b.taskIds[0] ?? ''),
      globalId('Comment', b.commentIds[0] ?? ''),
      globalId('User', b.owner.id),
      globalId('Project', '00000000-0000-4000-8000-000000000000'),
    ];
    for (const id of ids) expect(await sdkA.Node({ id })).toEqual({ ok: true, data: { node: null } });
    expect(await sdkA.ProjectWithTasks({ id: ids[0] as string })).toEqual({ ok: true, data: { project: null } });
    expect(await sdkA.Task({ id: ids[1] as string })).toEqual({ ok: true, data: { task: null } });
  });

  it('tasks(projectId:) of a tenant B project and tasks(assigneeId:) of a tenant B user are empty, counts included', async () => {
    const byProject = dataOf(await sdkA.Tasks({ projectId: globalId('Project', b.projectIds[0] ?? ''), first: 50 }));
    expect([byProject.tasks.totalCount, byProject.tasks.edges]).toEqual([0, []]);
    const byAssignee = dataOf(await sdkA.Tasks({ assigneeId: globalId('User', b.owner.id), first: 50 }));
    expect([byAssignee.tasks.totalCount, byAssignee.tasks.edges]).toEqual([0, []]);
    const own = dataOf(await sdkA.Tasks({ assigneeId: globalId('User', a.member.id), first: 50 }));
    expect(own.tasks.totalCount).toBe(3);
  });
});

describe('writes on tenant B ids', () => {
  const cases: [string, () => Promise<Result<unknown>>, string][] = [
    [
      'updateProject',
      () => sdkA.UpdateProject({ input: { id: globalId('Project', b.projectIds[0] ?? ''), name: 'hijacked' } }),
      'NOT_FOUND',
    ],
    ['archiveProject', () => sdkA.ArchiveProject({ id: globalId('Project', b.projectIds[0] ?? '') }), 'NOT_FOUND'],
    [
      'createTask in a tenant B project',
      () => sdkA.CreateTask({ input: { projectId: globalId('Project', b.projectIds[0] ?? ''), title: 'planted' } }),
      'NOT_FOUND',
    ],
    [
      'createTask assigned to a tenant B user',
      () =>
        sdkA.CreateTask({
          input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 'x', assigneeId: globalId('User', b.owner.id) },
        }),
      'BAD_USER_INPUT',
    ],
    [
      'updateTask',
      () => sdkA.UpdateTask({ input: { id: globalId('Task', b.taskIds[0] ?? ''), title: 'hijacked', status: 'DONE' } }),
      'NOT_FOUND',
    ],
    ['deleteTask', () => sdkA.DeleteTask({ id: globalId('Task', b.taskIds[0] ?? '') }), 'NOT_FOUND'],
    [
      'addComment',
      () => sdkA.AddComment({ input: { taskId: globalId('Task', b.taskIds[0] ?? ''), body: 'planted' } }),
      'NOT_FOUND',
    ],
  ];

  for (const [name, attempt, code] of cases) {
    it(`${name} fails with ${code} and leaves tenant B untouched`, async () => {
      const before = await snapshotOfB();
      const result = await attempt();
      expect(result).toMatchObject({ ok: false, error: { code, status: 200 } });
      expect(JSON.stringify(result)).not.toMatch(/tenant-b|[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(await snapshotOfB()).toEqual(before);
    });
  }

  it('answers "belongs to another tenant" exactly like "does not exist"', async () => {
    const mutation = 'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }';
    const theirs = await asA(mutation, { input: { id: globalId('Task', b.taskIds[0] ?? ''), title: 'x' } });
    const nobodys = await asA(mutation, { input: { id: globalId('Task', '00000000-0000-4000-8000-000000000000'), title: 'x' } });
    expect(theirs.status).toBe(nobodys.status);
    expect(theirs.body).toEqual(nobodys.body);
  });
});

describe('rows planted directly in SQL, breaking the app’s assumptions', () => {
  it('a tenant B task under a tenant A project (foreign keys bypassed) stays invisible to A', async () => {
    await server.database.sql.withSession(async (session) => {
      // Replica mode skips foreign-key triggers: the only way such a row could exist.
      await session.exec("SET session_replication_role = 'replica'");
      try {
        await session.query("INSERT INTO tasks (tenant_id, project_id, title) VALUES ($1, $2, 'planted tenant-b row')", [
          b.id,
          a.projectIds[0],
        ]);
      } finally {
        await session.exec("SET session_replication_role = 'origin'");
      }
    });
    const { body } = await asA<{ project: { tasks: { totalCount: number; edges: { node: { title: string } }[] } } }>(
      'query($id: ID!) { project(id: $id) { tasks(first: 50) { totalCount edges { node { title } } } } }',
      { id: globalId('Project', a.projectIds[0] ?? '') },
    );
    expect(body.data?.project.tasks.totalCount).toBe(3);
    expect(body.data?.project.tasks.edges.map((edge) => edge.node.title)).not.toContain('planted tenant-b row');
    const all = await asA<{ tasks: { totalCount: number } }>('{ tasks(first: 1) { totalCount } }');
    expect(all.body.data?.tasks.totalCount).toBe(9);
  });
});
