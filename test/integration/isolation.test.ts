import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Two tenants with identical shapes; every test acts as A and asserts that nothing of B is seen,
// counted, changed or hinted at — and that B's data is exactly as it was.

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let tokenA: string;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'tenant-a', projects: 3, tasksPerProject: 3 });
  b = await createTenantFixture(server.database, { slug: 'tenant-b', projects: 2, tasksPerProject: 4 });
  tokenA = await server.token(a.owner.id, a.slug);
});
afterAll(() => server?.close());

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
    const { body } = await asA<{ projects: { totalCount: number; edges: { node: { id: string; name: string } }[] } }>(
      '{ projects(first: 50) { totalCount edges { node { id name } } } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.projects.totalCount).toBe(3);
    expect(body.data?.projects.edges.map((edge) => edge.node.id).sort()).toEqual(
      a.projectIds.map((id) => globalId('Project', id)).sort(),
    );
    const archived = await asA<{ projects: { totalCount: number } }>(
      '{ projects(first: 50, includeArchived: true) { totalCount } }',
    );
    expect(archived.body.data?.projects.totalCount).toBe(4);
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
      `{ projects(first: 50) { edges { node { tasks(first: 50) { totalCount edges { node {
          title project { name } assignee { email }
          comments(first: 50) { totalCount edges { node { body author { email } } } } } } } } } } }`,
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

  it('members lists only tenant A’s members', async () => {
    const { body } = await asA<{ members: { user: { email: string }; role: string }[] }>('{ members { user { email } role } }');
    expect(body.data?.members.map((member) => member.user.email).sort()).toEqual(
      [a.owner.email, a.member.email, a.viewer.email].sort(),
    );
  });

  it('project(id), task(id) and node(id) answer null for every kind of tenant B row, like for ids that never existed', async () => {
    const ids = [
      globalId('Project', b.projectIds[0] ?? ''),
      globalId('Task', b.taskIds[0] ?? ''),
      globalId('Comment', b.commentIds[0] ?? ''),
      globalId('User', b.owner.id),
      globalId('Project', '00000000-0000-4000-8000-000000000000'),
    ];
    for (const id of ids) {
      const { body } = await asA<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id });
      expect(body).toEqual({ data: { node: null } });
    }
    const project = await asA('query($id: ID!) { project(id: $id) { id name } }', { id: ids[0] });
    expect(project.body).toEqual({ data: { project: null } });
    const task = await asA('query($id: ID!) { task(id: $id) { id title } }', { id: ids[1] });
    expect(task.body).toEqual({ data: { task: null } });
  });

  it('tasks(projectId:) of a tenant B project and tasks(assigneeId:) of a tenant B user are empty, counts included', async () => {
    const byProject = await asA<{ tasks: { totalCount: number; edges: unknown[] } }>(
      'query($p: ID) { tasks(projectId: $p, first: 50) { totalCount edges { node { id } } } }',
      { p: globalId('Project', b.projectIds[0] ?? '') },
    );
    expect(byProject.body.data?.tasks).toEqual({ totalCount: 0, edges: [] });
    const byAssignee = await asA<{ tasks: { totalCount: number; edges: unknown[] } }>(
      'query($u: ID) { tasks(assigneeId: $u, first: 50) { totalCount edges { node { id } } } }',
      { u: globalId('User', b.owner.id) },
    );
    expect(byAssignee.body.data?.tasks).toEqual({ totalCount: 0, edges: [] });
    const own = await asA<{ tasks: { totalCount: number } }>(
      'query($u: ID) { tasks(assigneeId: $u, first: 50) { totalCount } }',
      {
        u: globalId('User', a.member.id),
      },
    );
    expect(own.body.data?.tasks.totalCount).toBe(3);
  });
});

describe('writes on tenant B ids', () => {
  const cases: [string, string, () => Record<string, unknown>, string][] = [
    [
      'updateProject',
      'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }',
      () => ({ input: { id: globalId('Project', b.projectIds[0] ?? ''), name: 'hijacked' } }),
      'NOT_FOUND',
    ],
    [
      'archiveProject',
      'mutation($id: ID!) { archiveProject(id: $id) { id } }',
      () => ({ id: globalId('Project', b.projectIds[0] ?? '') }),
      'NOT_FOUND',
    ],
    [
      'createTask in a tenant B project',
      'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
      () => ({ input: { projectId: globalId('Project', b.projectIds[0] ?? ''), title: 'planted' } }),
      'NOT_FOUND',
    ],
    [
      'createTask assigned to a tenant B user',
      'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
      () => ({
        input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 'x', assigneeId: globalId('User', b.owner.id) },
      }),
      'BAD_USER_INPUT',
    ],
    [
      'updateTask',
      'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }',
      () => ({ input: { id: globalId('Task', b.taskIds[0] ?? ''), title: 'hijacked', status: 'DONE' } }),
      'NOT_FOUND',
    ],
    [
      'deleteTask',
      'mutation($id: ID!) { deleteTask(id: $id) }',
      () => ({ id: globalId('Task', b.taskIds[0] ?? '') }),
      'NOT_FOUND',
    ],
    [
      'addComment',
      'mutation($input: AddCommentInput!) { addComment(input: $input) { id } }',
      () => ({ input: { taskId: globalId('Task', b.taskIds[0] ?? ''), body: 'planted' } }),
      'NOT_FOUND',
    ],
  ];

  for (const [name, mutation, variables, code] of cases) {
    it(`${name} fails with ${code} and leaves tenant B untouched`, async () => {
      const before = await snapshotOfB();
      const { status, body } = await asA(mutation, variables());
      expect(status).toBe(200);
      expect(body.data).toBeNull();
      expect(body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
      expect(JSON.stringify(body)).not.toMatch(/tenant-b|[0-9a-f]{8}-[0-9a-f]{4}-/);
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
