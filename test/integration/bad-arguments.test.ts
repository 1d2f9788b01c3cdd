import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogs } from '../helpers/captured-logs.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { connectRaw } from '../helpers/raw-protocol-client.js';
import { subscribe, waitFor } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Arguments a client got wrong — a cursor it made up, a page size below zero, a NUL byte in a
// string — answer BAD_USER_INPUT naming the argument, run no SQL, change nothing, and are logged
// as the client's mistake (below error level, with the request id), not as the server's.

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let token: string;
// Debug: Yoga's own lines are written too, and must name their request like ours.
const { logger, lines: logLines } = capturedLogs('debug');

beforeAll(async () => {
  // The registry answers stay warm for the whole file (a slow machine outlived the default 5 s
  // between two requests, and the refresh counted as the refused operation's SQL).
  server = await startTestServer({ logger, registryTtlMs: 60_000 });
  a = await createTenantFixture(server.database, { slug: 'args-a', projects: 2, tasksPerProject: 2 });
  b = await createTenantFixture(server.database, { slug: 'args-b', projects: 1, tasksPerProject: 1 });
  token = await server.token(a.owner.id, a.slug);
  await server.request('{ viewer { role } }', { token }); // warms the registry: a refusal then runs no SQL at all
});
afterAll(() => server?.close());

const base64 = (text: string) => Buffer.from(text).toString('base64');
const projectCursor = (id: string) => base64(`GPC:S:${id}`);
const counts = async () => ({
  projects: await server.database.prisma.project.count(),
  tasks: await server.database.prisma.task.count(),
  comments: await server.database.prisma.comment.count(),
});

/** Sends `query` as tenant A's owner; asserts the one error is BAD_USER_INPUT naming `fields`, no SQL ran, nothing changed. */
async function expectRefused(
  query: string,
  fields: { field: string; message?: string }[],
  options: { variables?: Record<string, unknown>; requestId?: string } = {},
) {
  const before = await counts();
  const statements = server.database.statements.length;
  const { status, body } = await server.request(query, {
    token,
    variables: options.variables,
    headers: options.requestId ? { 'x-request-id': options.requestId } : {},
  });
  expect(status).toBe(200);
  expect(body.errors).toHaveLength(1);
  expect(body.errors?.[0]).toMatchObject({ message: 'Invalid input', extensions: { code: 'BAD_USER_INPUT' } });
  expect(body.errors?.[0]?.extensions?.fields).toEqual(
    fields.map((field) => (field.message ? field : { ...field, message: expect.any(String) })),
  );
  expect(JSON.stringify(body)).not.toMatch(/SELECT|INSERT|prisma|GPC|\bat \w+ \(|node_modules|\\u0000/i);
  expect(server.database.statements.slice(statements)).toEqual([]);
  expect(await counts()).toEqual(before);
  return body;
}

describe('cursors', () => {
  // Each decodes (GPC: then a tag Pothos knows), but none is what these connections hand out: a
  // string cursor holding the row's UUID.
  const forged = {
    'a legacy JSON cursor': base64('GPC:J:{"not":"x"}'),
    'a number cursor': base64('GPC:N:-5'),
    'a date cursor': base64('GPC:D:2020-01-01'),
    'a string cursor that is not a UUID': base64('GPC:S:not-a-uuid'),
    'a UUID in upper case': projectCursor('00000000-0000-4000-8000-00000000000A'),
    'something else in base64': base64('hello'),
    'not base64 at all': 'not-a-cursor',
    'a NUL byte': base64('GPC:S:\u0000'),
  };
  const cursorMessage = 'must be a cursor this connection returned';

  for (const [name, cursor] of Object.entries(forged)) {
    it(`${name} is BAD_USER_INPUT naming after, as a literal or a variable, on every connection`, async () => {
      const literal = JSON.stringify(cursor);
      await expectRefused(`{ projects(first: 2, after: ${literal}) { totalCount edges { node { id } } } }`, [
        { field: 'after', message: cursorMessage },
      ]);
      await expectRefused(
        'query($after: String) { tasks(first: 2, after: $after) { edges { node { id } } } }',
        [{ field: 'after', message: cursorMessage }],
        { variables: { after: cursor } },
      );
      await expectRefused(
        `query($id: ID!) { project(id: $id) { name tasks(first: 2, after: ${literal}) { edges { node { id } } } } }`,
        [{ field: 'after', message: cursorMessage }],
        { variables: { id: globalId('Project', a.projectIds[0] ?? '') } },
      );
      await expectRefused(
        'query($id: ID!, $c: String) { task(id: $id) { title comments(before: $c, last: 1) { edges { node { body } } } } }',
        [{ field: 'before', message: cursorMessage }],
        { variables: { id: globalId('Task', a.taskIds[0] ?? ''), c: cursor } },
      );
    });
  }

  it('a cursor the server handed out pages on; a cursor of another tenant’s row answers like one of no row', async () => {
    const first = await server.request<{
      projects: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { endCursor: string } };
    }>('{ projects(first: 1) { edges { cursor node { id } } pageInfo { endCursor } } }', { token });
    expect(first.body.errors).toBeUndefined();
    const next = await server.request<{ projects: { edges: { node: { id: string } }[] } }>(
      'query($after: String) { projects(first: 5, after: $after) { edges { node { id } } } }',
      { token, variables: { after: first.body.data?.projects.pageInfo.endCursor } },
    );
    expect(next.body.data?.projects.edges.map((edge) => edge.node.id)).toEqual([globalId('Project', a.projectIds[1] ?? '')]);

    const page = 'query($after: String) { projects(first: 5, after: $after) { totalCount edges { node { id } } } }';
    const theirs = await server.request(page, { token, variables: { after: projectCursor(b.projectIds[0] ?? '') } });
    const nobodys = await server.request(page, {
      token,
      variables: { after: projectCursor('00000000-0000-4000-8000-000000000000') },
    });
    expect(theirs.body.errors).toBeUndefined();
    expect(theirs.status).toBe(nobodys.status);
    expect(theirs.body).toEqual(nobodys.body);
  });

  it('a mutation asking for a connection with a forged cursor changes nothing', async () => {
    await expectRefused(
      `mutation($input: CreateTaskInput!) { createTask(input: $input) { id comments(after: "${forged['a number cursor']}") { totalCount } } }`,
      [{ field: 'after' }],
      { variables: { input: { projectId: globalId('Project', a.projectIds[0] ?? ''), title: 'never created' } } },
    );
  });
});

describe('page sizes', () => {
  it('first or last below zero is BAD_USER_INPUT naming the argument', async () => {
    await expectRefused('{ projects(first: -1) { totalCount } }', [{ field: 'first', message: 'must not be negative' }]);
    await expectRefused(
      'query($n: Int) { tasks(last: $n) { totalCount } }',
      [{ field: 'last', message: 'must not be negative' }],
      {
        variables: { n: -5 },
      },
    );
    await expectRefused(
      'query($id: ID!) { task(id: $id) { comments(first: -1) { totalCount } } }',
      [{ field: 'first', message: 'must not be negative' }],
      { variables: { id: globalId('Task', a.taskIds[0] ?? '') } },
    );
  });

  it('first or last above the maximum of 100 is BAD_USER_INPUT naming the argument, not a page quietly cut', async () => {
    await expectRefused('{ projects(first: 100000) { totalCount } }', [{ field: 'first', message: 'must be at most 100' }]);
    await expectRefused(
      'query($n: Int) { tasks(last: $n) { totalCount } }',
      [{ field: 'last', message: 'must be at most 100' }],
      { variables: { n: 101 } },
    );
    const { body } = await server.request<{ projects: { edges: unknown[] } }>(
      '{ projects(first: 100) { edges { node { id } } } }',
      { token },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.projects.edges).toHaveLength(2);
  });
});

describe('NUL bytes in string arguments', () => {
  const projectId = () => globalId('Project', a.projectIds[0] ?? '');
  const taskId = () => globalId('Task', a.taskIds[0] ?? '');
  const nul = 'a\u0000b';
  const nulMessage = 'must not contain NUL characters';

  it('in a mutation’s input: refused, naming the field, nothing written', async () => {
    await expectRefused(
      'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
      [{ field: 'input.title', message: nulMessage }],
      { variables: { input: { projectId: projectId(), title: nul } } },
    );
    await expectRefused(
      'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      [{ field: 'input.description', message: nulMessage }],
      { variables: { input: { name: 'fine', description: nul } } },
    );
    await expectRefused(
      'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }',
      [{ field: 'input.title', message: nulMessage }],
      { variables: { input: { id: taskId(), title: nul } } },
    );
    await expectRefused(`mutation { addComment(input: { taskId: "${taskId()}", body: "x\\u0000y" }) { id } }`, [
      { field: 'input.body', message: nulMessage },
    ]);
  });

  it('anywhere in a mutation: no field of it runs, not even the sound one before it', async () => {
    const before = await counts();
    const { body } = await server.request(
      `mutation {
        sound: createProject(input: { name: "sound" }) { id }
        broken: createProject(input: { name: "x\\u0000" }) { id }
      }`,
      { token },
    );
    expect(body.data).toBeNull();
    expect(body.errors?.map((error) => [error.path, error.extensions?.code, error.extensions?.fields])).toEqual([
      [['sound'], 'BAD_USER_INPUT', [{ field: 'input.name', message: nulMessage }]],
    ]);
    expect(await counts()).toEqual(before);
  });

  it('in one field of a query: that field is refused, the others answer', async () => {
    const { body } = await server.request('query($p: ID!) { viewer { role } project(id: $p) { name } }', {
      token,
      variables: { p: nul },
    });
    expect(body.data).toEqual({ viewer: { role: 'OWNER' }, project: null });
    expect(body.errors?.map((error) => [error.path, error.extensions?.fields])).toEqual([
      [['project'], [{ field: 'id', message: nulMessage }]],
    ]);
  });

  it('in a filter or an id: refused, naming the argument', async () => {
    await expectRefused('query($p: ID) { tasks(projectId: $p) { totalCount } }', [{ field: 'projectId', message: nulMessage }], {
      variables: { p: nul },
    });
    await expectRefused('query($id: ID!) { node(id: $id) { id } }', [{ field: 'id', message: nulMessage }], {
      variables: { id: `${taskId()}\u0000` },
    });
  });
  it('in a subscription’s arguments, over the websocket: refused before it subscribes, naming the argument', async () => {
    const subscriber = subscribe(server.url, token, 'TaskChanged', { projectId: nul });
    await subscriber.received(1);
    expect(subscriber.messages).toEqual([
      {
        ok: false,
        error: expect.objectContaining({ code: 'BAD_USER_INPUT', fields: [{ field: 'projectId', message: nulMessage }] }),
      },
    ]);
    await subscriber.dispose();
  });
});

describe('variables that do not fit their type', () => {
  it('are BAD_USER_INPUT naming the variable (and the field inside it), with nothing run', async () => {
    const statements = server.database.statements.length;
    const cases = [
      ['query($n: Int) { projects(first: $n) { totalCount } }', { n: 'x' }, '$n'],
      ['query($n: Int) { projects(first: $n) { totalCount } }', { n: 2 ** 31 }, '$n'],
      ['query($id: ID!) { project(id: $id) { name } }', {}, '$id'],
      [
        'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
        { input: { projectId: 'p', title: 7 } },
        '$input.title',
      ],
      [
        'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
        { input: { title: 'no project' } },
        '$input.projectId',
      ],
      [
        'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
        { input: { name: 'n', owner: 'x' } },
        '$input.owner',
      ],
    ] as const;
    for (const [query, variables, field] of cases) {
      const { status, body } = await server.request(query, { token, variables });
      expect(status).toBe(200);
      expect(body.errors).toHaveLength(1);
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', fields: [{ field, message: expect.any(String) }] });
    }
    expect(server.database.statements.slice(statements)).toEqual([]);
  });
});

describe('logs', () => {
  it('record a client’s mistake below error level, with its request id', async () => {
    await expectRefused(`{ projects(after: "${base64('GPC:N:-5')}") { totalCount } }`, [{ field: 'after' }], {
      requestId: 'bad-args-1',
    });
    await expectRefused(
      'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      [{ field: 'input.name' }],
      {
        variables: { input: { name: nul() } },
        requestId: 'bad-args-2',
      },
    );
    for (const requestId of ['bad-args-1', 'bad-args-2']) {
      const lines = logLines.filter((line) => line.requestId === requestId);
      expect(lines.some((line) => line.msg === 'bad user input')).toBe(true);
      expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
    }
    expect(logLines.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('name the request on every line written for it, Yoga’s own included, and keep coercion errors below error level', async () => {
    const from = logLines.length;
    const sent: [string, Record<string, unknown>][] = [
      ['{ projects(first: 100000) { totalCount } }', {}],
      ['query($n: Int) { projects(first: $n) { totalCount } }', { n: 'x' }],
      [`{ projects(after: "${base64('GPC:J:{"not":"x"}')}") { totalCount } }`, {}],
      ['{ projects(after: "x") { totalCount } }', {}],
    ];
    for (const [index, [query, variables]] of sent.entries()) {
      const requestId = `bad-args-every-line-${index}`;
      await server.request(query, { token, variables, headers: { 'x-request-id': requestId } });
      const lines = logLines.slice(from).filter((line) => line.requestId === requestId);
      expect(lines.some((line) => line.msg === 'bad user input')).toBe(true);
    }
    const written = logLines.slice(from);
    expect(written.filter((line) => (line.level as number) <= 20).length).toBeGreaterThan(0); // Yoga's debug lines
    expect(written.filter((line) => typeof line.requestId !== 'string')).toEqual([]);
    expect(written.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('name the request of a refusal raised before execution: a persisted-query hash that is not its text’s', async () => {
    const from = logLines.length;
    const requestId = 'bad-args-apq-mismatch';
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
      body: JSON.stringify({
        query: '{ viewer { role } }',
        extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } },
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
      'BAD_USER_INPUT',
    );
    const written = logLines.slice(from);
    expect(written.some((line) => line.msg === 'bad user input' && line.requestId === requestId)).toBe(true);
    expect(written.filter((line) => typeof line.requestId !== 'string')).toEqual([]);
  });

  it('record a document that does not parse or validate: one info line per request, with its request id and the document capped', async () => {
    const from = logLines.length;
    const long = `{ viewer { nope ${'x '.repeat(3000)}} }`;
    const sent = [
      ['invalid-field', '{ viewer { nope } }'],
      ['invalid-fields', '{ viewer { nope nada zilch } }'],
      ['unclosed', '{ viewer {'],
      // The same text again: Yoga answers it from its parse-error cache.
      ['unclosed-again', '{ viewer {'],
      ['long', long],
    ] as const;
    for (const [name, query] of sent) {
      const { body } = await server.request(query, { token, headers: { 'x-request-id': `bad-document-${name}` } });
      expect(body.errors?.length, name).toBeGreaterThan(0);
    }
    const written = logLines.slice(from);
    for (const [name, query] of sent) {
      const lines = written.filter((line) => line.requestId === `bad-document-${name}` && line.msg === 'bad user input');
      expect(lines, name).toHaveLength(1);
      const [line] = lines;
      expect(line?.level, name).toBe(30);
      expect(String(line?.document).length, name).toBeLessThanOrEqual(501);
      expect(query.startsWith(String(line?.document).replace(/…$/, '')), name).toBe(true);
      expect(line?.documentLength, name).toBe(query.length);
    }
    const byName = (name: string) =>
      written.find((line) => line.requestId === `bad-document-${name}` && line.msg === 'bad user input');
    expect(byName('invalid-field')).toMatchObject({ phase: 'validation', errorCount: 1 });
    expect(byName('invalid-fields')).toMatchObject({ phase: 'validation', errorCount: 3 });
    expect(byName('unclosed')).toMatchObject({ phase: 'parse', errorCount: 1 });
    expect(byName('unclosed-again')).toMatchObject({ phase: 'parse', errorCount: 1 });
    expect(String(byName('invalid-field')?.errors)).toContain('Cannot query field "nope"');
    expect(written.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('record a websocket operation that does not validate the same way, with its operation’s request id', async () => {
    const from = logLines.length;
    const client = await connectRaw(server.url, token);
    client.subscribe('1', 'subscription { nope }');
    await waitFor(() => client.messagesFor('1').length > 0, 10_000, 'the refusal');
    await client.close();
    const lines = logLines.slice(from).filter((line) => line.msg === 'bad user input');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, phase: 'validation', errorCount: 1, document: 'subscription { nope }' });
    expect(lines[0]?.requestId).toEqual(expect.any(String));
  });
});

function nul() {
  return 'name\u0000';
}
