import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peekTenant } from '../../src/tenancy/tenant-context.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let tenants: { fixture: TenantFixture; token: string }[];

beforeAll(async () => {
  // Fewer database clients than tenants asking: requests queue for them, and each client serves
  // one tenant's request after another's.
  server = await startTestServer({ environment: { DATABASE_CLIENTS: '2' } });
  tenants = [];
  for (const slug of ['conc-a', 'conc-b', 'conc-c']) {
    const fixture = await createTenantFixture(server.database, { slug, projects: 2, tasksPerProject: 2 });
    tenants.push({ fixture, token: await server.token(fixture.owner.id, slug) });
  }
});
afterAll(() => server?.close());

describe('hundreds of concurrent, interleaved requests from several tenants', () => {
  it('each response holds only its own tenant’s data, and no context outlives a request — even one that threw', async () => {
    const total = 300;
    const responses = await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const { fixture, token } = tenants[i % tenants.length] ?? (undefined as never);
        const other = tenants[(i + 1) % tenants.length]?.fixture as TenantFixture;
        if (i % 5 === 4) {
          // Interleave failing requests: a malformed id, and another tenant's task.
          const failing = await server.request('query($id: ID!) { task(id: $id) { title } p: project(id: "bad") { id } }', {
            token,
            variables: { id: globalId('Task', other.taskIds[0] ?? '') },
          });
          return { fixture, kind: 'failing' as const, body: failing.body };
        }
        const { body } = await server.request<{
          viewer: { tenant: { slug: string } };
          projects: {
            edges: {
              node: { name: string; tasks: { edges: { node: { title: string; assignee: { email: string } | null } }[] } };
            }[];
          };
        }>(
          '{ viewer { tenant { slug } } projects(first: 10) { edges { node { name tasks(first: 10) { edges { node { title assignee { email } } } } } } } }',
          { token },
        );
        return { fixture, kind: 'read' as const, body };
      }),
    );
    for (const { fixture, kind, body } of responses) {
      const text = JSON.stringify(body);
      for (const { fixture: other } of tenants) {
        if (other.slug !== fixture.slug) expect(text).not.toContain(other.slug);
      }
      if (kind === 'read') {
        expect(body.errors).toBeUndefined();
        const data = body.data as {
          viewer: { tenant: { slug: string } };
          projects: { edges: { node: { name: string; tasks: { edges: unknown[] } } }[] };
        };
        expect(data.viewer.tenant.slug).toBe(fixture.slug);
        expect(data.projects.edges).toHaveLength(2);
        expect(
          data.projects.edges.every((edge) => edge.node.name.startsWith(fixture.slug) && edge.node.tasks.edges.length === 2),
        ).toBe(true);
      } else {
        expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      }
    }
    expect(responses.filter((response) => response.kind === 'failing')).toHaveLength(total / 5);
    // The server runs in this process: nothing it bound may be left behind here.
    expect(peekTenant()).toBeUndefined();
  });
});
