import { ApolloClient, ApolloLink, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { operationHash } from '../../src/sdk/operation-hash.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';
import * as operations from './operations.js';

// Apollo Client 4 as an app ships it, against the real server on a loopback port: HTTP for queries
// and mutations, graphql-ws for subscriptions, the normalised cache, Relay pagination, automatic
// persisted queries, and the errors an app handles.

// GraphQLWsLink looks for the global WebSocket class (to tell error events apart), which browsers
// and Node 22 have and Node 20 has not: give it the one a browser would.
globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket;

let server: TestServer;
let a: TenantFixture;
let ownerToken: string;
const sockets: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'apollo', projects: 3, tasksPerProject: 2 });
  ownerToken = await server.token(a.owner.id, a.slug);
});
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await server?.close();
});

/** Every request body the client sent, and each answer's status. */
interface Wire {
  sent: { query?: string; extensions?: { persistedQuery?: unknown } }[];
  statuses: number[];
}

function apollo(options: { token?: string; persisted?: boolean; websocket?: boolean } = {}) {
  const wire: Wire = { sent: [], statuses: [] };
  const http = new HttpLink({
    uri: server.url,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    fetch: async (input, init) => {
      wire.sent.push(JSON.parse(String(init?.body)));
      const response = await fetch(input, init);
      wire.statuses.push(response.status);
      return response;
    },
  });
  let link: ApolloLink = options.persisted ? new PersistedQueryLink({ sha256: operationHash }).concat(http) : http;
  if (options.websocket) {
    const socket = createWsClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${options.token}` },
    });
    sockets.push(socket);
    link = ApolloLink.split(
      ({ query }) => query.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'subscription'),
      new GraphQLWsLink(socket),
      link,
    );
  }
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { projects: relayStylePagination(['includeArchived']) } } } }),
  });
  return { client, wire };
}

const VIEWER = gql(operations.VIEWER);
const PROJECTS = gql(operations.PROJECTS);
const CREATE_TASK = gql(operations.CREATE_TASK);
const TASK_CHANGED = gql(operations.TASK_CHANGED);

interface ProjectsData {
  projects: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; name: string } }[];
  };
}

describe('Apollo Client 4', () => {
  it('runs a query and keeps the objects it got in its normalised cache', async () => {
    const { client } = apollo({ token: ownerToken });
    const { data } = await client.query({ query: VIEWER });
    expect(data).toMatchObject({ viewer: { role: 'OWNER', tenant: { slug: 'apollo' } } });
    const tenantId = (data as { viewer: { tenant: { id: string } } }).viewer.tenant.id;
    expect(client.cache.extract()).toHaveProperty(`Tenant:${tenantId}`);
  });

  it('pages through a Relay connection with fetchMore, merged by relayStylePagination', async () => {
    const { client } = apollo({ token: ownerToken });
    const observable = client.watchQuery<ProjectsData>({ query: PROJECTS, variables: { first: 2 } });
    const watching = observable.subscribe(() => {});
    const first = await firstValueFrom(observable.pipe(filter((result) => result.dataState === 'complete')));
    expect(first.data?.projects.edges).toHaveLength(2);
    expect(first.data?.projects.pageInfo.hasNextPage).toBe(true);
    await observable.fetchMore({ variables: { after: first.data?.projects.pageInfo.endCursor } });
    const merged = client.readQuery<ProjectsData>({ query: PROJECTS, variables: { first: 2 } });
    expect(merged?.projects.edges.map((edge) => edge.node.name).sort()).toEqual([
      'apollo project 0',
      'apollo project 1',
      'apollo project 2',
    ]);
    expect(merged?.projects.pageInfo.hasNextPage).toBe(false);
    watching.unsubscribe();
  });

  it('runs a mutation, and delivers the subscription event it publishes over graphql-ws', async () => {
    const { client } = apollo({ token: ownerToken, websocket: true });
    const projectId = globalId('Project', a.projectIds[0] ?? '');
    const events: unknown[] = [];
    const subscription = client.subscribe({ query: TASK_CHANGED, variables: { projectId } }).subscribe({
      next: (result) => events.push(result.data),
    });
    // The subscription is registered once its socket is acknowledged and the message handled.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const created = await client.mutate({ mutation: CREATE_TASK, variables: { input: { projectId, title: 'From Apollo' } } });
    expect(created.data).toMatchObject({ createTask: { title: 'From Apollo' } });
    await waitFor(() => events.length > 0, 5_000, 'the event');
    expect(events[0]).toMatchObject({ taskChanged: { kind: 'CREATED', task: { title: 'From Apollo' } } });
    subscription.unsubscribe();
  });

  it('speaks automatic persisted queries through PersistedQueryLink: hash, miss, text, then the hash alone', async () => {
    const { client, wire } = apollo({ token: ownerToken, persisted: true });
    const first = await client.query({ query: PROJECTS, variables: { first: 1 } });
    expect((first.data as ProjectsData).projects.totalCount).toBe(3);
    expect(wire.sent.map((body) => typeof body.query === 'string')).toEqual([false, true]);
    expect(wire.statuses).toEqual([400, 200]);
    await client.query({ query: PROJECTS, variables: { first: 1 }, fetchPolicy: 'network-only' });
    expect(wire.sent[2]?.query).toBeUndefined();
    expect(wire.sent[2]?.extensions?.persistedQuery).toBeDefined();
    expect(wire.statuses[2]).toBe(200);
  });

  it('sees errors as the codes the README documents, the same over HTTP and graphql-ws', async () => {
    const member = apollo({ token: await server.token(a.member.id, a.slug), websocket: true });
    const forbidden = gql`
      mutation {
        createProject(input: { name: "no" }) {
          id
        }
      }
    `;
    const refused = await member.client.mutate({ mutation: forbidden, errorPolicy: 'none' }).catch((error: unknown) => error);
    expect(CombinedGraphQLErrors.is(refused)).toBe(true);
    expect((refused as CombinedGraphQLErrors).errors[0]?.extensions).toEqual({ code: 'FORBIDDEN' });

    const invalid = gql`
      subscription {
        taskChanged(projectId: "x") {
          nope
        }
      }
    `;
    const overWs = await new Promise<unknown>((resolve) => {
      member.client.subscribe({ query: invalid }).subscribe({ next: (result) => resolve(result.error), error: resolve });
    });
    const overHttp = await server.request('subscription { taskChanged(projectId: "x") { nope } }', {
      token: await server.token(a.member.id, a.slug),
    });
    expect(CombinedGraphQLErrors.is(overWs)).toBe(true);
    // Apollo prints the document its own way, so locations differ; the rest is the same error.
    const shape = (errors: readonly { message: string; extensions?: unknown }[] = []) =>
      errors.map(({ message, extensions }) => ({ message, extensions }));
    expect(shape((overWs as CombinedGraphQLErrors).errors)).toEqual(shape(overHttp.body.errors));
    expect(shape(overHttp.body.errors)).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);

    const anonymous = await apollo()
      .client.query({ query: VIEWER })
      .catch((error: unknown) => error);
    expect(ServerError.is(anonymous)).toBe(true);
    expect((anonymous as ServerError).statusCode).toBe(401);
    expect(JSON.parse((anonymous as ServerError).bodyText)).toEqual({
      errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }],
    });
  });
});
