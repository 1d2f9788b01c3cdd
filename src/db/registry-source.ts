import type { PrismaClient } from '../generated/prisma/client.js';
import { increment } from '../observability/metrics.js';
import { isUuid } from '../tenancy/resolve-tenant.js';
import type { RegistrySource } from '../tenancy/tenant-registry.js';

/** The registry's view of the shared tables, read through the trusted system client. */
export function createRegistrySource(prisma: PrismaClient): RegistrySource {
  return {
    async findTenant(idOrSlug) {
      increment('registry_query');
      const tenant = await prisma.tenant.findUnique({
        where: isUuid(idOrSlug) ? { id: idOrSlug } : { slug: idOrSlug },
        select: { id: true, slug: true, status: true, name: true, plan: true },
      });
      return (
        tenant && { id: tenant.id, slug: tenant.slug, active: tenant.status === 'ACTIVE', name: tenant.name, plan: tenant.plan }
      );
    },
    async findMembership(tenantId, userId) {
      increment('registry_query');
      return prisma.membership.findUnique({
        where: { tenantId_userId: { tenantId, userId } },
        select: { role: true, user: { select: { email: true, name: true } } },
      });
    },
  };
}
