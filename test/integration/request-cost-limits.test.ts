import { request as httpRequest } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue } from '../../src/observability/metrics.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ environment: { MAX_BODY_BYTES: '65536', HIDE_SCHEMA_HINTS: 'true' } });
  a = await createTenantFixture(server.database, { slug: 'costs', projects: 2, tasksPerProject: 3 });
  token = await server.token(a.owner.id, a.slug);
});
afterAll(() => server?.close());

/**
 * Sends a request's headers and none of its body, and resolves with the status the server answers
 * with. A server that answers has decided without reading the body; one that waits for it times
 * out here — so an answer proves the body was never parsed, validated or cached.
 */
function statusBeforeBody(headers: Record<string, string>, declaredLength: number): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(declaredLength), ...headers },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('error', reject);
    request.setTimeout(5_000, () => request.destroy(new Error('the server waited for the body')));
    request.flushHeaders();
  });
}

describe('before the caller is known, a request costs a header check', () => {
  it('an anonymous 16 MB request is refused 401 without its body being read', async () => {
    const { status, body } = await statusBeforeBody({}, 16 * 1024 * 1024);
    expect(status).toBe(401);
    expect(JSON.parse(body)).toEqual({
      errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }],
    });
  });

  it('a bad token is refused the same way, before the body', async () => {
    const { status } = await statusBeforeBody({ authorization: `Bearer ${token.slice(0, -4)}AAAA` }, 8 * 1024 * 1024);
    expect(status).toBe(401);
  });

  it('GraphQL is served at /graphql only: other paths ending in /graphql are 404, read nothing', async () => {
    for (const path of ['/graphql/', '/x/graphql', '/?q=/graphql', '/graphql/graphql']) {
      const response = await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ projectz { id } }' }),
      });
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toMatch(/Did you mean|projects/);
    }
  });

  it('an anonymous client learns nothing of the schema: no validation, no hints', async () => {
    const response = await server.request('{ projectz { id } }');
    expect(response.status).toBe(401);
    expect(JSON.stringify(response.body)).not.toMatch(/projects|Did you mean/);
  });
});

describe('once the caller is known, the body and the document are bounded', () => {
  it('a body declared over MAX_BODY_BYTES is refused 413 without being read', async () => {
    const { status, body } = await statusBeforeBody({ authorization: `Bearer ${token}` }, 65_537);
    expect(status).toBe(413);
    expect(body).not.toMatch(/stack|at /);
  });

  it('a chunked body that grows over MAX_BODY_BYTES is cut off with 413', async () => {
    const chunk = JSON.stringify({ query: `{ viewer { role } }`, variables: { padding: 'x'.repeat(70_000) } });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('a document over MAX_TOKENS stops parsing at the limit', async () => {
    const fields = Array.from({ length: 2_100 }, () => '__typename').join(' ');
    const response = await server.request(`{ ${fields} }`, { token });
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors?.[0]?.message).toMatch(/Document contains more tha[nt] 2000 tokens/);
  });

  it('validation errors carry no "Did you mean" hints when HIDE_SCHEMA_HINTS is on', async () => {
    const response = await server.request('{ projectz { id } }', { token });
    expect(response.body.errors?.[0]?.message).toBeDefined();
    expect(JSON.stringify(response.body)).not.toMatch(/Did you mean|"projects"/);
  });

  it('fragments spread again and again are measured once: a 1 KB document cannot hold the event loop', async () => {
    // F0 spreads F1 twice, F1 spreads F2 twice, …: walked afresh at each spread, 2^30 visits.
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Query { viewer { role } }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    );
    const started = Date.now();
    const response = await server.request(`{ ...F0 } ${fragments.join(' ')}`, { token });
    // The cost limit counts every spread (2^29 viewers), as it should: it prices the shape asked for.
    expect(response.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
    // Minutes before the fix; a generous bound, not a speed target.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the standard introspection query passes the depth limit (GraphiQL, IDEs, codegen)', async () => {
    for (const query of [
      getIntrospectionQuery(),
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
        oneOf: true,
      }),
    ]) {
      const response = await server.request<{ __schema: { queryType: { name: string } } }>(query, { token });
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data?.__schema.queryType.name).toBe('Query');
    }
  });

  it('aliases inside introspection count: aliased copies of the schema multiply at every level', async () => {
    // Through fragments, 20 copies of types × 20 of fields × 20 of type × 20 of ofType: millions of
    // objects built synchronously (the cost limit does not see inside __schema), were the alias
    // limit not applied below it. ~600 tokens: well within MAX_TOKENS.
    const copies = (alias: string, field: string, spread: string) =>
      Array.from({ length: 20 }, (_, i) => `${alias}${i}: ${field} { ${spread} }`).join(' ');
    const document = `{ __schema { ...S } }
      fragment S on __Schema { ${copies('t', 'types', '...T')} }
      fragment T on __Type { ${copies('f', 'fields', '...F')} }
      fragment F on __Field { ${copies('y', 'type', '...Y')} }
      fragment Y on __Type { name ${copies('o', 'ofType', 'name')} }`;
    const started = Date.now();
    const response = await server.request(document, { token });
    expect(response.body.errors?.[0]?.message).toMatch(/aliases; at most 30 are allowed/);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.data).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
    // A single `__type` lookup under an alias is still one alias, and allowed.
    const one = await server.request<{ task: { name: string } }>('{ task: __type(name: "Task") { name } }', { token });
    expect(one.body.data?.task.name).toBe('Task');
  });
});

describe('an operation may cost at most MAX_COST, judged before any SQL', () => {
  const TASK_FIELDS = 'id title status assignee { id name } comments { totalCount }';

  it('the benchmark nested read (20 projects × 20 tasks) passes', async () => {
    const response = await server.request<{ projects: { edges: unknown[] } }>(
      `{ projects(first: 20) { totalCount edges { node { id name tasks(first: 20) { totalCount edges { node { ${TASK_FIELDS} } } } } } } }`,
      { token },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.projects.edges).toHaveLength(2);
  });

  it('three nested pages of 100 are refused with their cost and the limit, running nothing', async () => {
    await server.request('{ viewer { role } }', { token });
    const before = server.database.statements.length;
    const refusedBefore = counterValue('query_too_costly');
    const response = await server.request(
      '{ projects(first: 100) { edges { node { tasks(first: 100) { edges { node { project { tasks(first: 100) { edges { node { id title } } } } } } } } } } }',
      { token },
    );
    expect(response.body.data ?? null).toBeNull();
    const [error] = response.body.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', limit: 50_000 });
    const cost = (error?.extensions as { cost?: number } | undefined)?.cost ?? 0;
    expect(cost).toBeGreaterThan(1_000_000);
    expect(error?.message).toBe(`Operation cost ${cost} exceeds the limit of 50000; ask for smaller pages or fewer fields`);
    expect(server.database.statements.length).toBe(before);
    expect(counterValue('query_too_costly')).toBe(refusedBefore + 1);
  });

  it('a connection’s `nodes` cost what its `edges` do: the page, not a list of unknown size', async () => {
    const costOf = async (query: string) => {
      const response = await server.request(query, { token });
      return (response.body.errors?.[0]?.extensions as { cost?: number } | undefined)?.cost;
    };
    const byEdges = await costOf(
      '{ projects(first: 100) { edges { node { tasks(first: 100) { edges { node { project { tasks(first: 100) { edges { node { id } } } } } } } } } } }',
    );
    const byNodes = await costOf(
      '{ projects(first: 100) { nodes { tasks(first: 100) { nodes { project { tasks(first: 100) { nodes { id } } } } } } } }',
    );
    expect(byEdges).toBeGreaterThan(1_000_000);
    // Edges cost one more field per level (`node`) at the same multiples.
    expect(byNodes).toBeGreaterThan(byEdges ? byEdges * 0.6 : Number.POSITIVE_INFINITY);
    expect(byNodes).toBeLessThanOrEqual(byEdges ?? 0);
    // And the benchmark's read in either shape passes.
    const read = await server.request<{ projects: { nodes: unknown[] } }>(
      `{ projects(first: 20) { totalCount nodes { id name tasks(first: 20) { totalCount nodes { ${TASK_FIELDS} } } } } }`,
      { token },
    );
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data?.projects.nodes).toHaveLength(2);
  });

  it('aliases add up: thirty copies of an allowed read are refused together', async () => {
    const copy = (i: number) => `p${i}: projects(first: 100) { edges { node { tasks(first: 30) { edges { node { id } } } } } }`;
    const one = await server.request(`{ ${copy(0)} }`, { token });
    expect(one.body.errors).toBeUndefined();
    const many = await server.request(`{ ${Array.from({ length: 30 }, (_, i) => copy(i)).join(' ')} }`, { token });
    expect(many.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
  });

  it('the page size a variable asks for counts, not the default', async () => {
    const query =
      'query ($n: Int) { projects(first: $n) { edges { node { tasks(first: $n) { edges { node { id title status createdAt updatedAt } } } } } } }';
    const small = await server.request(query, { token, variables: { n: 20 } });
    expect(small.body.errors).toBeUndefined();
    const large = await server.request(query, { token, variables: { n: 100 } });
    expect(large.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
  });
});

describe('a subscription', () => {
  it('over the cost limit is refused when it is set up, not at its first event', async () => {
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(server.url.replace('http', 'ws'), 'graphql-transport-ws');
    const messages: { type: string; payload?: unknown }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await waitFor(() => messages.some((message) => message.type === 'connection_ack'));
    const heavy = `subscription { projectChanged { project { tasks(first: 100) { edges { node {
      comments(first: 100) { edges { node { body author { name } } } } } } } } } }`;
    socket.send(JSON.stringify({ id: 'heavy', type: 'subscribe', payload: { query: heavy } }));
    await waitFor(() => messages.some((message) => message.type === 'error' || message.type === 'next'));
    const answer = messages.find((message) => message.type === 'error' || message.type === 'next');
    expect(JSON.stringify(answer)).toContain('COST_LIMIT_EXCEEDED');
    socket.close();
  });
});

async function waitFor(condition: () => boolean) {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a websocket before its connection_init is accepted', () => {
  it('is closed (1009) by a message over MAX_BODY_BYTES instead of buffering it', async () => {
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(server.url.replace('http', 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => {});
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(70_000) } }));
    expect(await closed).toBe(1009);
  });
});
