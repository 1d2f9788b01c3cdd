import { addMember, addUser, createTenant } from '../src/admin/tenant-admin.js';
import type { Database } from '../src/db/create-database.js';

export interface BenchTenant {
  id: string;
  slug: string;
  ownerId: string;
  projectIds: string[];
  taskIds: string[];
}

/** Skewed on purpose: one large tenant, a few middling, one tiny. Tasks per project are equal. */
const SIZES = [
  { slug: 'bench-large', projects: 300, tasksPerProject: 20 },
  { slug: 'bench-medium', projects: 60, tasksPerProject: 20 },
  { slug: 'bench-small', projects: 20, tasksPerProject: 20 },
  { slug: 'bench-tiny', projects: 5, tasksPerProject: 20 },
];
/** A tenant whose projects hold 50 times the tasks: the same page, far more data behind it. */
const WIDE = { slug: 'bench-wide', projects: 20, tasksPerProject: 1_000 };
const MEMBERS = 5;

/** Titles of the tasks the writes workload creates. */
export const BENCH_WRITE_TITLE = 'Bench write';

/**
 * Takes the data set back to its seeded shape: deletes the tasks the writes workload created. Left
 * in place, they pile up run after run in the few projects of the smaller tenants (hundreds of tasks
 * each where the seed put 20), and every later nested read reads them all.
 */
export async function removeBenchWrites(database: Database): Promise<void> {
  await database.sql.query(
    `DELETE FROM tasks WHERE title LIKE $1 AND tenant_id IN (SELECT id FROM tenants WHERE slug LIKE 'bench-%')`,
    [`${BENCH_WRITE_TITLE}%`],
  );
}

/**
 * Seeds the benchmark tenants once (idempotent by slug) with set-based SQL: thousands of projects,
 * tasks and comments in seconds, and removes what earlier runs' writes left. Runs as the
 * connection's own role, like the CLI.
 */
export async function seedBenchData(database: Database): Promise<BenchTenant[]> {
  await removeBenchWrites(database);
  const tenants = await seedTenants(database, SIZES);
  // For the baseline only: it pages projects with no tenant predicate, so its nested read has no
  // (tenant_id, created_at, id) index to walk and PostgreSQL evaluated every project's LATERAL joins
  // before the LIMIT (2 req/s). Its query shape gets the index the isolated server's shape has.
  await database.sql.exec('CREATE INDEX IF NOT EXISTS bench_baseline_projects_order ON projects (created_at, id)');
  // Fresh statistics, as an operator would after a bulk load: nested pages are planned as LATERAL
  // joins, and on stale estimates PostgreSQL may evaluate them for every parent row before the LIMIT.
  await database.sql.exec('ANALYZE tenants, users, memberships, projects, tasks, comments');
  return tenants;
}

/** The wide tenant (20 projects of 1,000 tasks), seeded once like the others. */
export async function seedWideTenant(database: Database): Promise<BenchTenant> {
  const [wide] = (await seedTenants(database, [WIDE])) as [BenchTenant];
  await database.sql.exec('ANALYZE projects, tasks, comments');
  return wide;
}

async function seedTenants(database: Database, sizes: typeof SIZES): Promise<BenchTenant[]> {
  const tenants: BenchTenant[] = [];
  for (const size of sizes) {
    let tenant = await database.prisma.tenant.findUnique({ where: { slug: size.slug } });
    if (!tenant) {
      tenant = await createTenant(database.prisma, { slug: size.slug, name: size.slug, plan: 'pro' });
      for (let m = 0; m < MEMBERS; m++) {
        const email = `user${m}@${size.slug}.bench`;
        await addUser(database.prisma, { email, name: `User ${m} of ${size.slug}` });
        await addMember(database.prisma, email, size.slug, m === 0 ? 'OWNER' : 'MEMBER');
      }
      await database.sql.query(
        `INSERT INTO projects (tenant_id, name, description, created_at)
         SELECT $1, 'Project ' || n, 'Seeded for the benchmark', now() - n * interval '1 minute'
         FROM generate_series(1, $2::int) AS n`,
        [tenant.id, size.projects],
      );
      await database.sql.query(
        `INSERT INTO tasks (tenant_id, project_id, title, status, assignee_id)
         SELECT p.tenant_id, p.id, 'Task ' || n,
                (ARRAY['TODO','IN_PROGRESS','DONE']::"TaskStatus"[])[1 + n % 3],
                (SELECT user_id FROM memberships m WHERE m.tenant_id = p.tenant_id ORDER BY user_id OFFSET n % ${MEMBERS} LIMIT 1)
         FROM projects p, generate_series(1, $2::int) AS n
         WHERE p.tenant_id = $1`,
        [tenant.id, size.tasksPerProject],
      );
      await database.sql.query(
        `INSERT INTO comments (tenant_id, task_id, author_id, body)
         SELECT t.tenant_id, t.id, t.assignee_id, 'Seeded comment'
         FROM tasks t WHERE t.tenant_id = $1 AND t.assignee_id IS NOT NULL`,
        [tenant.id],
      );
    }
    const owner = await database.prisma.membership.findFirstOrThrow({ where: { tenantId: tenant.id, role: 'OWNER' } });
    const projects = await database.prisma.project.findMany({ where: { tenantId: tenant.id }, select: { id: true } });
    const tasks = await database.prisma.task.findMany({ where: { tenantId: tenant.id }, select: { id: true }, take: 2_000 });
    tenants.push({
      id: tenant.id,
      slug: tenant.slug,
      ownerId: owner.userId,
      projectIds: projects.map((project) => project.id),
      taskIds: tasks.map((task) => task.id),
    });
  }
  return tenants;
}
