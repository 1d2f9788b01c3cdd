import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// Five hundred tenants, three database clients: every client serves one tenant's request after
// another's, many times over, while the requests interleave.

const TENANTS = 500;
let server: TestServer;
let tenants: { slug: string; token: string; taskId: string }[];

beforeAll(async () => {
  // A thousand requests queue for three clients: on a loaded machine some wait longer than the
  // default 10 s, and this test is about what they answer, not how long they wait.
  server = await startTestServer({ environment: { DATABASE_CLIENTS: '3', DATABASE_CLIENT_WAIT_MS: '60000' } });
  const { sql } = server.database;
  await sql.withSession(async (session) => {
    await session.exec('BEGIN');
    await session.query(
      `INSERT INTO tenants (slug, name) SELECT 'crowd-' || n, 'Crowd ' || n FROM generate_series(1, $1::int) AS n`,
      [TENANTS],
    );
    await session.query(
      `INSERT INTO users (email, name) SELECT 'owner@crowd-' || n || '.test', 'Owner ' || n FROM generate_series(1, $1::int) AS n`,
      [TENANTS],
    );
    await session.exec(`
      INSERT INTO memberships (tenant_id, user_id, role)
        SELECT t.id, u.id, 'OWNER' FROM tenants t JOIN users u ON u.email = 'owner@' || t.slug || '.test'
        WHERE t.slug LIKE 'crowd-%';
      INSERT INTO projects (tenant_id, name) SELECT id, 'Project of ' || slug FROM tenants WHERE slug LIKE 'crowd-%';
      INSERT INTO tasks (tenant_id, project_id, title)
        SELECT p.tenant_id, p.id, 'Task of ' || t.slug FROM projects p JOIN tenants t ON t.id = p.tenant_id
        WHERE t.slug LIKE 'crowd-%';
      COMMIT;`);
  });
  const rows = await sql.query<{ slug: string; user_id: string; task_id: string }>(
    `SELECT t.slug, m.user_id, k.id AS task_id FROM tenants t
       JOIN memberships m ON m.tenant_id = t.id JOIN tasks k ON k.tenant_id = t.id
     WHERE t.slug LIKE 'crowd-%' ORDER BY t.slug`,
  );
  tenants = await Promise.all(
    rows.map(async (row) => ({ slug: row.slug, token: await server.token(row.user_id, row.slug), taskId: row.task_id })),
  );
}, 120_000);
afterAll(() => server?.close());

describe(`requests of ${TENANTS} tenants, interleaved concurrently on three database clients`, () => {
  it('each answer holds its own tenant’s rows and nobody else’s', async () => {
    expect(tenants).toHaveLength(TENANTS);
    const answers = await Promise.all(
      tenants.flatMap((tenant, index) => {
        const neighbour = tenants[(index + 1) % tenants.length] as (typeof tenants)[number];
        return [
          server
            .request<{
              viewer: { tenant: { slug: string } };
              projects: { edges: { node: { name: string; tasks: { edges: { node: { title: string } }[] } } }[] };
            }>(
              '{ viewer { tenant { slug } } projects(first: 5) { edges { node { name tasks(first: 5) { edges { node { title } } } } } } }',
              { token: tenant.token },
            )
            .then((response) => ({ tenant, kind: 'own' as const, response })),
          // Another tenant's task, asked for by id: null, exactly as if it did not exist.
          server
            .request<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', {
              token: tenant.token,
              variables: { id: globalId('Task', neighbour.taskId) },
            })
            .then((response) => ({ tenant, kind: 'foreign' as const, response })),
        ];
      }),
    );
    const crossed: string[] = [];
    for (const { tenant, kind, response } of answers) {
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      const text = JSON.stringify(response.body.data);
      if (kind === 'foreign') {
        if (text !== '{"node":null}') crossed.push(`${tenant.slug} saw ${text}`);
        continue;
      }
      const expected = {
        viewer: { tenant: { slug: tenant.slug } },
        projects: {
          edges: [
            { node: { name: `Project of ${tenant.slug}`, tasks: { edges: [{ node: { title: `Task of ${tenant.slug}` } }] } } },
          ],
        },
      };
      if (text !== JSON.stringify(expected)) crossed.push(`${tenant.slug} saw ${text}`);
    }
    expect(crossed).toEqual([]);
    // Three clients served them all: none was made per tenant.
    expect(server.app.databaseClients.made).toBeLessThanOrEqual(3);
  }, 120_000);
});
