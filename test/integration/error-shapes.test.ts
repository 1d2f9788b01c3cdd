import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture } from '../helpers/fixtures.js';
import { connectRaw, type RawProtocolClient } from '../helpers/raw-protocol-client.js';
import { waitFor } from '../helpers/subscriber.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// A client library handles an error by its shape (message, locations, extensions.code …); the
// same mistake must read the same over HTTP, server-sent events and graphql-ws, or a client that
// moves an operation from one transport to another breaks on an error it already handled.

let server: TestServer;
let token: string;
let socket: RawProtocolClient;

beforeAll(async () => {
  server = await startTestServer();
  const a = await createTenantFixture(server.database, { slug: 'shapes', projects: 1, tasksPerProject: 1 });
  token = await server.token(a.owner.id, a.slug);
  socket = await connectRaw(server.url, token);
});
afterAll(async () => {
  await socket?.close();
  await server?.close();
});

const mistakes = {
  'an unknown field (validation)': { query: '{ viewer { nope } }' },
  'a syntax error': { query: '{ viewer { ' },
  'a variable of the wrong type': {
    query: 'query ($first: Int) { projects(first: $first) { totalCount } }',
    variables: { first: 'x' },
  },
  'an operation deeper than the limit': {
    query: `{ projects { edges { node { tasks { edges { node { project { tasks { edges { node { project { tasks { edges { node { id } } } } } } } } } } } } } } }`,
  },
} as const;

type Mistake = { query: string; variables?: Record<string, unknown> };

async function overHttp(mistake: Mistake) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(mistake),
  });
  return ((await response.json()) as { errors: unknown[] }).errors;
}

async function overSse(mistake: Mistake) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify(mistake),
  });
  const text = await response.text();
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
    .map((line) => JSON.parse(line.slice('data: '.length)) as { errors?: unknown[] });
  return data.find((message) => message.errors)?.errors;
}

let nextId = 0;
async function overWebSocket(mistake: Mistake) {
  const id = `m${nextId++}`;
  socket.subscribe(id, mistake.query, mistake.variables);
  await waitFor(() => socket.messagesFor(id).some((m) => m.type === 'error' || m.type === 'next'), 5_000, 'an answer');
  const answer = socket.messagesFor(id)[0];
  return answer?.type === 'error' ? answer.payload : (answer?.payload as { errors?: unknown[] } | undefined)?.errors;
}

describe('the same mistake has the same error shape on every transport', () => {
  for (const [name, mistake] of Object.entries(mistakes)) {
    it(`${name}: HTTP, server-sent events and graphql-ws answer identical errors`, async () => {
      const http = await overHttp(mistake);
      expect(http?.length).toBeGreaterThan(0);
      expect(JSON.stringify(http)).not.toContain('"http"');
      expect(await overSse(mistake)).toEqual(http);
      expect(await overWebSocket(mistake)).toEqual(http);
    });
  }
});
