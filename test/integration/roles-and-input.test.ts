import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TypedSdk } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { dataOf, errorOf } from '../helpers/results.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
const as: Record<'owner' | 'member' | 'viewer', TypedSdk> = {} as never;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'roles', projects: 1, tasksPerProject: 1 });
  for (const role of ['owner', 'member', 'viewer'] as const) {
    as[role] = createClient({ url: server.url, token: await server.token(a[role].id, a.slug) }).sdk;
  }
});
afterAll(() => server?.close());

const taskCount = () => server.database.prisma.task.count({ where: { tenantId: a.id } });
const projectId = () => globalId('Project', a.projectIds[0] ?? '');
describe('roles come from the membership', () => {
  it('a VIEWER reads but cannot write anything', async () => {
    expect(dataOf(await as.viewer.Projects({ first: 5 })).projects.totalCount).toBe(1);
    const before = await taskCount();
    const write = await as.viewer.CreateTask({ input: { projectId: projectId(), title: 'nope' } });
    expect(errorOf(write)?.code).toBe('FORBIDDEN');
    expect(await taskCount()).toBe(before);
  });

  it('a MEMBER writes tasks and comments but cannot manage projects', async () => {
    const task = await as.member.CreateTask({
      input: {
        projectId: projectId(),
        title: '  Write tests  ',
        assigneeId: globalId('User', a.viewer.id),
        dueAt: '2027-01-31T12:00:00Z',
      },
    });
    expect(dataOf(task).createTask).toMatchObject({
      title: 'Write tests',
      status: 'TODO',
      dueAt: '2027-01-31T12:00:00.000Z',
      assignee: { email: a.viewer.email },
      project: { name: 'roles project 0' },
    });
    const comment = await as.member.AddComment({ input: { taskId: dataOf(task).createTask.id, body: 'on it' } });
    expect(dataOf(comment).addComment).toMatchObject({ body: 'on it', author: { email: a.member.email } });
    expect(errorOf(await as.member.CreateProject({ input: { name: 'Nope' } }))?.code).toBe('FORBIDDEN');
  });

  it('an OWNER manages projects: create, update, archive', async () => {
    const created = dataOf(await as.owner.CreateProject({ input: { name: 'Launch', description: 'Q1' } })).createProject;
    expect(created).toMatchObject({ name: 'Launch', description: 'Q1' });
    const updated = await as.owner.UpdateProject({ input: { id: created.id, name: 'Launch 2', description: null } });
    expect(dataOf(updated).updateProject).toMatchObject({ name: 'Launch 2', description: null, archived: false });
    expect(dataOf(await as.owner.ArchiveProject({ id: created.id })).archiveProject.archived).toBe(true);
    const intoArchived = await as.owner.CreateTask({ input: { projectId: created.id, title: 'late' } });
    expect(errorOf(intoArchived)).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ field: 'input.projectId', message: 'the project is archived' }],
    });
  });
});

describe('bad input gets a clear, generic error and changes nothing', () => {
  it('names each field at fault', async () => {
    const before = await taskCount();
    const blank = await as.owner.CreateTask({ input: { projectId: projectId(), title: '   ' } });
    expect(errorOf(blank)).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ field: 'input.title', message: 'must not be empty' }],
    });
    const long = await as.owner.CreateProject({ input: { name: 'x'.repeat(201) } });
    expect(errorOf(long)?.fields).toEqual([{ field: 'input.name', message: 'must be at most 200 characters' }]);
    expect(await taskCount()).toBe(before);
  });

  it('malformed ids, ids of the wrong type and bad dates are BAD_USER_INPUT, never a stack or SQL', async () => {
    const before = await taskCount();
    const malformed = await as.owner.CreateTask({ input: { projectId: 'garbage', title: 't' } });
    expect(errorOf(malformed)?.code).toBe('BAD_USER_INPUT');
    const wrongType = await as.owner.CreateTask({ input: { projectId: globalId('Task', a.taskIds[0] ?? ''), title: 't' } });
    expect(errorOf(wrongType)?.fields).toEqual([{ field: 'input.projectId', message: 'must be the id of a Project' }]);
    const badDate = await as.owner.CreateTask({ input: { projectId: projectId(), title: 't', dueAt: 'tomorrow' } });
    expect(errorOf(badDate)?.code).toBe('BAD_USER_INPUT');
    const nodeGarbage = await as.owner.Node({ id: '%%%' });
    expect(errorOf(nodeGarbage)?.code).toBe('BAD_USER_INPUT');
    for (const result of [malformed, wrongType, badDate, nodeGarbage]) {
      expect(JSON.stringify(result)).not.toMatch(/SELECT|INSERT|prisma|\bat \w+ \(|node_modules/i);
    }
    expect(await taskCount()).toBe(before);
  });
});
