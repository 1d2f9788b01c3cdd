import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { increment } from '../observability/metrics.js';
import { isUuid } from '../tenancy/resolve-tenant.js';
import type { Access, MembershipRecord, RegistrySource, TenantRecord } from '../tenancy/tenant-registry.js';

interface AccessRow {
  id: string;
  slug: string;
  status: string;
  name: string;
  plan: string;
  role: string | null;
  email: string | null;
  user_name: string | null;
}

const tenantOf = (row: AccessRow): TenantRecord => ({
  id: row.id,
  slug: row.slug,
  active: row.status === 'ACTIVE',
  name: row.name,
  plan: row.plan,
});
const membershipOf = (row: AccessRow): MembershipRecord | null =>
  row.role === null ? null : { role: row.role, user: { email: row.email ?? '', name: row.user_name ?? '' } };

/**
 * The registry's view of the shared tables, read through the trusted system client: each lookup
 * one statement (Prisma's relation loading would send one per relation), a tenant's first request
 * one lookup for tenant and membership together.
 */
export function createRegistrySource(prisma: PrismaClient): RegistrySource {
  /** The tenant `idOrSlug`, with `userId`'s membership and profile when there is one. */
  const lookUp = async (idOrSlug: string, userId: string | null): Promise<AccessRow | undefined> => {
    increment('registry_query');
    // By id or by slug, never one OR the other: each is an index lookup under a generic plan.
    const tenant = isUuid(idOrSlug) ? Prisma.sql`t.id = ${idOrSlug}::uuid` : Prisma.sql`t.slug = ${idOrSlug}`;
    const rows = await prisma.$queryRaw<AccessRow[]>`
      SELECT t.id::text AS id, t.slug, t.status::text AS status, t.name, t.plan,
             m.role::text AS role, u.email, u.name AS user_name
      FROM tenants t
      LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ${userId}::uuid
      LEFT JOIN users u ON u.id = m.user_id
      WHERE ${tenant}`;
    return rows[0];
  };
  return {
    async findTenant(idOrSlug) {
      const row = await lookUp(idOrSlug, null);
      return row ? tenantOf(row) : null;
    },
    async findMembership(tenantId, userId) {
      const row = await lookUp(tenantId, userId);
      return row ? membershipOf(row) : null;
    },
    async findAccess(idOrSlug, userId): Promise<Access> {
      const row = await lookUp(idOrSlug, userId);
      return row ? { tenant: tenantOf(row), membership: membershipOf(row) } : { tenant: null, membership: null };
    },
  };
}
