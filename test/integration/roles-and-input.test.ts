import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
const tokens: Record<'owner' | 'member' | 'viewer', string> = { owner: '', member: '', viewer: '' };

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'roles', projects: 1, tasksPerProject: 1 });
  tokens.owner = await server.token(a.owner.id, a.slug);
  tokens.member = await server.token(a.member.id, a.slug);
  tokens.viewer = await server.token(a.viewer.id, a.slug);
});
afterAll(() => server?.close());

const CREATE_PROJECT = 'mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description } }';
const CREATE_TASK =
  'mutation($input: CreateTaskInput!) { createTask(input: $input) { id title status assignee { email } project { name } } }';
const codes = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.map((error) => error.extensions?.code);
const taskCount = () => server.database.prisma.task.count({ where: { tenantId: a.id } });

describe('roles come from the membership', () => {
  it('a VIEWER reads but cannot write anything', async () => {
    const read = await server.request('{ projects(first: 5) { totalCount } }', { token: tokens.viewer });
    expect(read.body.data).toEqual({ projects: { totalCount: 1 } });
    const before = await taskCount();
    const write = await server.request(CREATE_TASK, {
      token: tokens.viewer,
      variables: { input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 'nope' } },
    });
    expect(codes(write.body)).toEqual(['FORBIDDEN']);
    expect(await taskCount()).toBe(before);
  });

  it('a MEMBER writes tasks and comments but cannot manage projects', async () => {
    const task = await server.request<{
      createTask: { title: string; status: string; assignee: { email: string }; project: { name: string } };
    }>(CREATE_TASK, {
      token: tokens.member,
      variables: {
        input: {
          projectId: globalId('Project', a.projectIds[0] ?? ''),
          title: '  Write tests  ',
          assigneeId: globalId('User', a.viewer.id),
          dueAt: '2027-01-31T12:00:00Z',
        },
      },
    });
    expect(task.body.errors).toBeUndefined();
    expect(task.body.data?.createTask).toMatchObject({
      title: 'Write tests',
      status: 'TODO',
      assignee: { email: a.viewer.email },
      project: { name: 'roles project 0' },
    });
    const project = await server.request(CREATE_PROJECT, { token: tokens.member, variables: { input: { name: 'Nope' } } });
    expect(codes(project.body)).toEqual(['FORBIDDEN']);
  });

  it('an OWNER manages projects: create, update, archive', async () => {
    const created = await server.request<{ createProject: { id: string; name: string; description: string | null } }>(
      CREATE_PROJECT,
      {
        token: tokens.owner,
        variables: { input: { name: 'Launch', description: 'Q1' } },
      },
    );
    const id = created.body.data?.createProject.id ?? '';
    expect(created.body.data?.createProject).toMatchObject({ name: 'Launch', description: 'Q1' });
    const updated = await server.request(
      'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { name description archived } }',
      {
        token: tokens.owner,
        variables: { input: { id, name: 'Launch 2', description: null } },
      },
    );
    expect(updated.body.data).toEqual({ updateProject: { name: 'Launch 2', description: null, archived: false } });
    const archived = await server.request('mutation($id: ID!) { archiveProject(id: $id) { archived } }', {
      token: tokens.owner,
      variables: { id },
    });
    expect(archived.body.data).toEqual({ archiveProject: { archived: true } });
    const intoArchived = await server.request(CREATE_TASK, {
      token: tokens.owner,
      variables: { input: { projectId: id, title: 'late' } },
    });
    expect(intoArchived.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      fields: [{ field: 'input.projectId', message: 'the project is archived' }],
    });
  });
});

describe('bad input gets a clear, generic error and changes nothing', () => {
  it('names each field at fault', async () => {
    const before = await taskCount();
    const { body } = await server.request(CREATE_TASK, {
      token: tokens.owner,
      variables: { input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: '   ' } },
    });
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      fields: [{ field: 'input.title', message: 'must not be empty' }],
    });
    const long = await server.request(CREATE_PROJECT, { token: tokens.owner, variables: { input: { name: 'x'.repeat(201) } } });
    expect(long.body.errors?.[0]?.extensions?.fields).toEqual([
      { field: 'input.name', message: 'must be at most 200 characters' },
    ]);
    expect(await taskCount()).toBe(before);
  });

  it('malformed ids, ids of the wrong type and bad dates are BAD_USER_INPUT or a GraphQL input error, never a stack or SQL', async () => {
    const malformed = await server.request(CREATE_TASK, {
      token: tokens.owner,
      variables: { input: { projectId: 'garbage', title: 't' } },
    });
    expect(codes(malformed.body)).toEqual(['BAD_USER_INPUT']);
    const wrongType = await server.request(CREATE_TASK, {
      token: tokens.owner,
      variables: { input: { projectId: globalId('Task', a.taskIds[0] ?? ''), title: 't' } },
    });
    expect(wrongType.body.errors?.[0]?.extensions?.fields).toEqual([
      { field: 'input.projectId', message: 'must be the id of a Project' },
    ]);
    const badDate = await server.request(CREATE_TASK, {
      token: tokens.owner,
      variables: { input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 't', dueAt: 'tomorrow' } },
    });
    expect(badDate.body.errors?.length).toBe(1);
    const nodeGarbage = await server.request('{ node(id: "%%%") { id } }', { token: tokens.owner });
    for (const body of [malformed.body, wrongType.body, badDate.body, nodeGarbage.body]) {
      expect(JSON.stringify(body)).not.toMatch(/SELECT|INSERT|prisma|\bat \w+ \(|node_modules/i);
    }
  });
});
