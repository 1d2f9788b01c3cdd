import { Client, cacheExchange, type Exchange, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';
import * as operations from './operations.js';

// urql 6 as an app ships it, against the real server on a loopback port: queries and a mutation
// over HTTP, subscriptions over server-sent events (graphql-sse) and graphql-ws, cursor
// pagination, automatic persisted queries (persistedExchange) and the errors an app handles.

let server: TestServer;
let a: TenantFixture;
let ownerToken: string;
const sockets: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'urql', projects: 3, tasksPerProject: 1 });
  ownerToken = await server.token(a.owner.id, a.slug);
});
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await server?.close();
});

type Transport = 'sse' | 'ws';

function urql(options: { token?: string; persisted?: boolean; subscriptions?: Transport } = {}) {
  const sent: { query?: string }[] = [];
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const exchanges: Exchange[] = [cacheExchange];
  if (options.persisted) exchanges.push(persistedExchange());
  if (options.subscriptions === 'sse') {
    const sse = createSseClient({ url: server.url, headers: authorization ? { authorization } : {} });
    exchanges.push(
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    );
  }
  if (options.subscriptions === 'ws') {
    const ws = createWsClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { Authorization: authorization } : {},
    });
    sockets.push(ws);
    exchanges.push(
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    );
  }
  exchanges.push(fetchExchange);
  const client = new Client({
    url: server.url,
    exchanges,
    fetchOptions: { headers: authorization ? { authorization } : {} },
    // urql sends queries as GET (within a URL length) and mutations as POST, as it ships.
    fetch: async (input, init) => {
      const query = init?.body ? (JSON.parse(String(init.body)) as { query?: string }).query : undefined;
      sent.push({ query: query ?? new URL(String(input)).searchParams.get('query') ?? undefined });
      return fetch(input, init);
    },
  });
  return { client, sent };
}

const VIEWER = gql(operations.VIEWER);
const PROJECTS = gql(operations.PROJECTS);
const CREATE_TASK = gql(operations.CREATE_TASK);
const TASK_CHANGED = gql(operations.TASK_CHANGED);

interface ProjectsData {
  projects: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { name: string } }[] };
}

describe('urql 6', () => {
  it('runs a query', async () => {
    const { client } = urql({ token: ownerToken });
    const result = await client.query(VIEWER, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toMatchObject({ viewer: { role: 'OWNER', tenant: { slug: 'urql' } } });
  });

  it('pages through a Relay connection by cursor', async () => {
    const { client } = urql({ token: ownerToken });
    const names: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result = await client.query<ProjectsData>(PROJECTS, { first: 2, after }).toPromise();
      names.push(...(result.data?.projects.edges.map((edge) => edge.node.name) ?? []));
      if (!result.data?.projects.pageInfo.hasNextPage) break;
      after = result.data.projects.pageInfo.endCursor;
    }
    expect(names.sort()).toEqual(['urql project 0', 'urql project 1', 'urql project 2']);
  });

  for (const transport of ['sse', 'ws'] as const) {
    it(`runs a mutation, and delivers the subscription event it publishes over ${transport === 'sse' ? 'server-sent events' : 'graphql-ws'}`, async () => {
      const { client } = urql({ token: ownerToken, subscriptions: transport });
      const projectId = globalId('Project', a.projectIds[0] ?? '');
      const events: unknown[] = [];
      const subscription = client.subscription(TASK_CHANGED, { projectId }).subscribe((result) => events.push(result.data));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const title = `From urql over ${transport}`;
      const created = await client.mutation(CREATE_TASK, { input: { projectId, title } }).toPromise();
      expect(created.error).toBeUndefined();
      await waitFor(() => events.length > 0, 5_000, 'the event');
      expect(events[0]).toMatchObject({ taskChanged: { kind: 'CREATED', task: { title } } });
      subscription.unsubscribe();
    });
  }

  it('speaks automatic persisted queries through persistedExchange: hash, miss, text, then the hash alone', async () => {
    const { client, sent } = urql({ token: ownerToken, persisted: true });
    const first = await client.query(VIEWER, {}).toPromise();
    expect(first.error).toBeUndefined();
    expect(first.data).toMatchObject({ viewer: { tenant: { slug: 'urql' } } });
    expect(sent.map((body) => typeof body.query === 'string')).toEqual([false, true]);
    const again = await client.query(VIEWER, {}, { requestPolicy: 'network-only' }).toPromise();
    expect(again.error).toBeUndefined();
    expect(sent.map((body) => typeof body.query === 'string')).toEqual([false, true, false]);
  });

  it('sees errors as the codes the README documents, on every transport', async () => {
    const memberToken = await server.token(a.member.id, a.slug);
    const forbidden = gql`
      mutation {
        createProject(input: { name: "no" }) {
          id
        }
      }
    `;
    const refused = await urql({ token: memberToken }).client.mutation(forbidden, {}).toPromise();
    expect(refused.error?.graphQLErrors.map((error) => error.extensions)).toEqual([{ code: 'FORBIDDEN' }]);

    const badCursor = await urql({ token: memberToken }).client.query(PROJECTS, { first: 1, after: 'garbage' }).toPromise();
    expect(badCursor.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    const invalid = gql`
      subscription {
        taskChanged(projectId: "x") {
          nope
        }
      }
    `;
    const shapes = await Promise.all(
      (['sse', 'ws'] as const).map(
        (transport) =>
          new Promise<unknown>((resolve) => {
            urql({ token: memberToken, subscriptions: transport })
              .client.subscription(invalid, {})
              .subscribe((result) =>
                resolve(result.error?.graphQLErrors.map(({ message, extensions }) => ({ message, extensions }))),
              );
          }),
      ),
    );
    expect(shapes[0]).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    expect(shapes[1]).toEqual(shapes[0]);

    const anonymous = await urql().client.query(VIEWER, {}).toPromise();
    expect(anonymous.error?.response?.status).toBe(401);
    expect(anonymous.error?.graphQLErrors.map(({ message, extensions }) => ({ message, extensions }))).toEqual([
      { message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });
});
