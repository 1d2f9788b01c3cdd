import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { increment } from '../observability/metrics.js';
import { isUuid } from '../tenancy/resolve-tenant.js';
import type { Access, Identity, Member, MembershipRecord, RegistrySource, TenantRecord } from '../tenancy/tenant-registry.js';

interface AccessRow {
  id: string;
  slug: string;
  status: string;
  name: string;
  plan: string;
  user_id: string | null;
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
const memberOf = (row: AccessRow | undefined): Member =>
  row ? { userId: row.user_id, membership: membershipOf(row) } : { userId: null, membership: null };

/**
 * The user an identity names, as a subquery of at most one row: its registered identity, or — for
 * the development signer only, whose tokens carry our own ids — the user of that id.
 */
function userOf(identity: Identity): Prisma.Sql {
  const registered = Prisma.sql`i.issuer = ${identity.issuer} AND i.subject = ${identity.subject}`;
  if (!identity.subjectIsUserId || !isUuid(identity.subject)) {
    return Prisma.sql`SELECT i.user_id FROM user_identities i WHERE ${registered}`;
  }
  // A registered identity wins over the id it happens to spell.
  return Prisma.sql`
    SELECT c.user_id FROM (
      SELECT i.user_id, 0 AS rank FROM user_identities i WHERE ${registered}
      UNION ALL
      SELECT u.id, 1 FROM users u WHERE u.id = ${identity.subject}::uuid
    ) c ORDER BY c.rank LIMIT 1`;
}

/**
 * The registry's view of the shared tables, read through the trusted system client: each lookup
 * one statement (Prisma's relation loading would send one per relation), a tenant's first request
 * one lookup for tenant, identity, user and membership together.
 */
export function createRegistrySource(prisma: PrismaClient): RegistrySource {
  /** The tenant `idOrSlug`, with the user `identity` names and their membership and profile when there are. */
  const lookUp = async (idOrSlug: string, identity: Identity | null): Promise<AccessRow | undefined> => {
    increment('registry_query');
    // By id or by slug, never one OR the other: each is an index lookup under a generic plan.
    const tenant = isUuid(idOrSlug) ? Prisma.sql`t.id = ${idOrSlug}::uuid` : Prisma.sql`t.slug = ${idOrSlug}`;
    const who = identity ? userOf(identity) : Prisma.sql`SELECT NULL::uuid AS user_id`;
    const rows = await prisma.$queryRaw<AccessRow[]>`
      SELECT t.id::text AS id, t.slug, t.status::text AS status, t.name, t.plan,
             who.user_id::text AS user_id, m.role::text AS role, u.email, u.name AS user_name
      FROM tenants t
      LEFT JOIN LATERAL (${who}) who ON true
      LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = who.user_id
      LEFT JOIN users u ON u.id = m.user_id
      WHERE ${tenant}`;
    return rows[0];
  };
  return {
    async findTenant(idOrSlug) {
      const row = await lookUp(idOrSlug, null);
      return row ? tenantOf(row) : null;
    },
    async findMembership(tenantId, identity) {
      return memberOf(await lookUp(tenantId, identity));
    },
    async findAccess(idOrSlug, identity): Promise<Access> {
      const row = await lookUp(idOrSlug, identity);
      return { tenant: row ? tenantOf(row) : null, ...memberOf(row) };
    },
  };
}
