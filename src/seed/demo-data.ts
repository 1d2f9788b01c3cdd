import { randomUUID } from 'node:crypto';
import { addMember, addUser, createTenant } from '../admin/tenant-admin.js';
import type { Database } from '../db/create-database.js';
import { createTenantDb } from '../db/tenant-db.js';
import { runInTenant } from '../tenancy/tenant-context.js';

export interface DemoLogin {
  email: string;
  userId: string;
  tenantSlug: string;
  role: string;
}

const DEMO = [
  {
    tenant: { slug: 'acme', name: 'Acme Corporation', plan: 'pro' },
    people: [
      { email: 'alice@acme.test', name: 'Alice Archer', role: 'OWNER' },
      { email: 'bob@acme.test', name: 'Bob Baker', role: 'MEMBER' },
    ],
    projects: [
      { name: 'Rocket skates', tasks: ['Order wheels', 'Test on the canyon road', 'Write the safety notice'] },
      { name: 'Giant magnet', tasks: ['Find a supplier', 'Calculate the pull'] },
    ],
  },
  {
    tenant: { slug: 'globex', name: 'Globex', plan: 'free' },
    people: [
      { email: 'carol@globex.test', name: 'Carol Chen', role: 'OWNER' },
      { email: 'dave@globex.test', name: 'Dave Diaz', role: 'VIEWER' },
    ],
    projects: [{ name: 'World domination', tasks: ['Acquire the Eastern seaboard', 'Hire a hammock expert'] }],
  },
] as const;

/** The demo login per tenant (its owner), once demo data is there. */
export async function demoLogins(database: Database): Promise<DemoLogin[]> {
  const owners = await database.prisma.membership.findMany({
    where: {
      role: 'OWNER',
      tenant: { slug: { in: DEMO.map((demo) => demo.tenant.slug) } },
      user: { email: { endsWith: '.test' } },
    },
    include: { user: true, tenant: true },
    orderBy: { tenant: { slug: 'asc' } },
  });
  return owners.map((owner) => ({
    email: owner.user.email,
    userId: owner.userId,
    tenantSlug: owner.tenant.slug,
    role: owner.role,
  }));
}

/** Seeds two demo tenants, only into a database that has no tenant yet. Returns whether it did. */
export async function seedDemoIfEmpty(database: Database): Promise<boolean> {
  if ((await database.prisma.tenant.count()) > 0) return false;
  for (const demo of DEMO) {
    const tenant = await createTenant(database.prisma, demo.tenant);
    const members: string[] = [];
    for (const person of demo.people) {
      const user = await addUser(database.prisma, person);
      await addMember(database.prisma, person.email, tenant.slug, person.role);
      members.push(user.id);
    }
    // Tenant-owned rows go through the tenant client, like any request's would.
    const db = createTenantDb(database, tenant.id);
    const context = {
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      userId: members[0] ?? '',
      role: 'OWNER',
      requestId: `seed-${randomUUID()}`,
    };
    await runInTenant(context, async () => {
      for (const projectSeed of demo.projects) {
        const project = await db.project.create({ data: { tenantId: tenant.id, name: projectSeed.name } });
        for (const [index, title] of projectSeed.tasks.entries()) {
          const task = await db.task.create({
            data: { tenantId: tenant.id, projectId: project.id, title, assigneeId: members[index % members.length] ?? null },
          });
          if (index === 0) {
            await db.comment.create({
              data: { tenantId: tenant.id, taskId: task.id, authorId: context.userId, body: 'Let’s start here.' },
            });
          }
        }
      }
    });
  }
  return true;
}
