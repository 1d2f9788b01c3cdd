import type { Database } from '../src/db/create-database.js';

/** One small tenant of the many-tenants workload: an owner, three projects, a task per project. */
export interface SmallTenant {
  id: string;
  slug: string;
  ownerId: string;
  taskId: string;
  /** The project of `taskId`. */
  projectId: string;
}

const PROJECTS = 3;

/**
 * Seeds `count` small tenants (`many-1` … `many-<count>`) with set-based SQL — ten thousand in
 * seconds — reusing those an earlier run made (idempotent by slug), and returns them in order.
 * Runs as the connection's own role, like the CLI.
 */
export async function seedManyTenants(database: Database, count: number): Promise<SmallTenant[]> {
  await database.sql.withSession(async (session) => {
    await session.exec('BEGIN');
    await session.query(
      `INSERT INTO tenants (slug, name, plan)
       SELECT 'many-' || n, 'Many ' || n, 'free' FROM generate_series(1, $1::int) AS n
       ON CONFLICT (slug) DO NOTHING`,
      [count],
    );
    await session.query(
      `INSERT INTO users (email, name)
       SELECT 'owner@many-' || n || '.bench', 'Owner of many-' || n FROM generate_series(1, $1::int) AS n
       ON CONFLICT (email) DO NOTHING`,
      [count],
    );
    await session.query(
      `INSERT INTO memberships (tenant_id, user_id, role)
       SELECT t.id, u.id, 'OWNER' FROM tenants t JOIN users u ON u.email = 'owner@' || t.slug || '.bench'
       WHERE t.slug LIKE 'many-%' ON CONFLICT DO NOTHING`,
    );
    await session.query(
      `INSERT INTO projects (tenant_id, name)
       SELECT t.id, 'Project ' || n FROM tenants t, generate_series(1, ${PROJECTS}) AS n
       WHERE t.slug LIKE 'many-%' AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.tenant_id = t.id)`,
    );
    await session.query(
      `INSERT INTO tasks (tenant_id, project_id, title)
       SELECT p.tenant_id, p.id, 'Task of ' || p.name FROM projects p JOIN tenants t ON t.id = p.tenant_id
       WHERE t.slug LIKE 'many-%' AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.project_id = p.id)`,
    );
    await session.exec('COMMIT');
    // Fresh statistics, as an operator would after a bulk load: the planner must see the new rows.
    await session.exec('ANALYZE tenants, users, memberships, projects, tasks');
  });
  const rows = await database.sql.query<{ id: string; slug: string; owner_id: string; task_id: string; project_id: string }>(
    `SELECT t.id, t.slug, m.user_id AS owner_id, k.id AS task_id, k.project_id
     FROM tenants t JOIN memberships m ON m.tenant_id = t.id AND m.role = 'OWNER'
     JOIN LATERAL (SELECT id, project_id FROM tasks WHERE tenant_id = t.id ORDER BY id LIMIT 1) k ON true
     WHERE t.slug LIKE 'many-%' AND substring(t.slug from 6)::int <= $1
     ORDER BY substring(t.slug from 6)::int`,
    [count],
  );
  return rows.map((row) => ({
    id: row.id,
    slug: row.slug,
    ownerId: row.owner_id,
    taskId: row.task_id,
    projectId: row.project_id,
  }));
}
