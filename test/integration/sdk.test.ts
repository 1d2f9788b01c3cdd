import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TenantgraphClient } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// The generated SDK as a client app would use it, over real HTTP: a schema change that breaks
// clients breaks this file's compilation or its assertions.

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let owner: TenantgraphClient;
let member: TenantgraphClient;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'sdk-a', projects: 2, tasksPerProject: 2 });
  b = await createTenantFixture(server.database, { slug: 'sdk-b', projects: 1, tasksPerProject: 1 });
  owner = createClient({ url: server.url, token: await server.token(a.owner.id, a.slug) });
  member = createClient({ url: server.url, token: await server.token(a.member.id, a.slug) });
});
afterAll(async () => {
  await owner?.close();
  await member?.close();
  await server?.close();
});

describe('the generated SDK', () => {
  it('reads the viewer, projects and a project’s tasks with full types', async () => {
    const viewer = await owner.sdk.Viewer();
    expect(viewer).toEqual({
      ok: true,
      data: {
        viewer: {
          role: 'OWNER',
          tenant: expect.objectContaining({ slug: 'sdk-a' }),
          user: expect.objectContaining({ email: a.owner.email }),
        },
      },
    });
    const projects = await owner.sdk.Projects({ first: 10 });
    if (!projects.ok) throw new Error(projects.error.message);
    expect(projects.data.projects.totalCount).toBe(2);
    const first = projects.data.projects.edges[0]?.node;
    const withTasks = await owner.sdk.ProjectWithTasks({ id: first?.id ?? '', first: 10 });
    if (!withTasks.ok) throw new Error(withTasks.error.message);
    expect(withTasks.data.project?.tasks.totalCount).toBe(2);
    expect(withTasks.data.project?.tasks.edges.every((edge) => edge.node.comments.totalCount === 1)).toBe(true);
  });

  it('creates, updates and deletes through typed mutations', async () => {
    const created = await member.sdk.CreateTask({
      input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 'From the SDK' },
    });
    if (!created.ok) throw new Error(created.error.message);
    const updated = await member.sdk.UpdateTask({ input: { id: created.data.createTask.id, status: 'DONE' } });
    expect(updated.ok && updated.data.updateTask.status).toBe('DONE');
    const comment = await member.sdk.AddComment({ input: { taskId: created.data.createTask.id, body: 'done' } });
    expect(comment.ok && comment.data.addComment.author?.email).toBe(a.member.email);
    expect(await member.sdk.DeleteTask({ id: created.data.createTask.id })).toEqual({
      ok: true,
      data: { deleteTask: created.data.createTask.id },
    });
  });

  it('surfaces errors as codes to switch on', async () => {
    const forbidden = await member.sdk.CreateProject({ input: { name: 'Not allowed' } });
    expect(forbidden).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', status: 200 } });
    const notFound = await owner.sdk.UpdateTask({ input: { id: globalId('Task', b.taskIds[0] ?? ''), title: 'x' } });
    expect(notFound).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found' } });
    const badInput = await owner.sdk.CreateProject({ input: { name: '' } });
    expect(badInput).toMatchObject({
      ok: false,
      error: { code: 'BAD_USER_INPUT', fields: [{ field: 'input.name', message: 'must not be empty' }] },
    });
    const anonymous = createClient({ url: server.url });
    expect(await anonymous.sdk.Viewer()).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', status: 401 } });
    const stranger = createClient({ url: server.url, token: await server.token(b.owner.id, a.slug) });
    expect(await stranger.sdk.Viewer()).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', status: 403 } });
  });

  it('answers another tenant’s node with null', async () => {
    expect(await owner.sdk.Node({ id: globalId('Project', b.projectIds[0] ?? '') })).toEqual({ ok: true, data: { node: null } });
    const own = await owner.sdk.Node({ id: globalId('Project', a.projectIds[0] ?? '') });
    expect(own.ok && own.data.node?.__typename).toBe('Project');
  });
});
