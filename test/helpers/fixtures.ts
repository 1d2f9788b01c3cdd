import { randomUUID } from 'node:crypto';
import { addMember, addUser, createTenant } from '../../src/admin/tenant-admin.js';
import type { Database } from '../../src/db/create-database.js';
import { createTenantDb } from '../../src/db/tenant-db.js';
import { runInTenant } from '../../src/tenancy/tenant-context.js';

export interface TenantFixture {
  id: string;
  slug: string;
  owner: { id: string; email: string };
  member: { id: string; email: string };
  viewer: { id: string; email: string };
  projectIds: string[];
  archivedProjectId: string;
  taskIds: string[];
  commentIds: string[];
}

/**
 * A tenant with an owner, a member and a viewer, `projects` projects (plus one archived) of
 * `tasksPerProject` tasks each, every task assigned and commented once.
 */
export async function createTenantFixture(
  database: Database,
  options: { slug?: string; projects?: number; tasksPerProject?: number } = {},
): Promise<TenantFixture> {
  const slug = options.slug ?? `t-${randomUUID().slice(0, 8)}`;
  const tenant = await createTenant(database.prisma, { slug, name: `Tenant ${slug}` });
  const person = async (role: string) => {
    const email = `${role.toLowerCase()}-${randomUUID().slice(0, 8)}@${slug}.test`;
    const user = await addUser(database.prisma, { email, name: `${role} of ${slug}` });
    await addMember(database.prisma, email, slug, role);
    return { id: user.id, email };
  };
  const owner = await person('OWNER');
  const member = await person('MEMBER');
  const viewer = await person('VIEWER');

  const db = createTenantDb(database, tenant.id);
  const context = { tenantId: tenant.id, tenantSlug: slug, userId: owner.id, role: 'OWNER', requestId: 'fixture' };
  const created = await runInTenant(context, async () => {
    const projectIds: string[] = [];
    const taskIds: string[] = [];
    const commentIds: string[] = [];
    for (let p = 0; p < (options.projects ?? 2); p++) {
      const project = await db.project.create({ data: { tenantId: tenant.id, name: `${slug} project ${p}` } });
      projectIds.push(project.id);
      for (let t = 0; t < (options.tasksPerProject ?? 2); t++) {
        const task = await db.task.create({
          data: {
            tenantId: tenant.id,
            projectId: project.id,
            title: `${slug} task ${p}.${t}`,
            assigneeId: t % 2 ? member.id : owner.id,
          },
        });
        taskIds.push(task.id);
        const comment = await db.comment.create({
          data: { tenantId: tenant.id, taskId: task.id, authorId: owner.id, body: `${slug} comment on ${p}.${t}` },
        });
        commentIds.push(comment.id);
      }
    }
    const archived = await db.project.create({ data: { tenantId: tenant.id, name: `${slug} archived`, archived: true } });
    return { projectIds, taskIds, commentIds, archivedProjectId: archived.id };
  });
  return { id: tenant.id, slug, owner, member, viewer, ...created };
}

/** The tenant context of a fixture's owner, for binding tenant-scoped work directly in tests. */
export function ownerContext(tenant: TenantFixture, requestId = 'test') {
  return { tenantId: tenant.id, tenantSlug: tenant.slug, userId: tenant.owner.id, role: 'OWNER', requestId };
}
