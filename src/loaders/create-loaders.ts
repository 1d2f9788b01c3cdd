import DataLoader from 'dataloader';
import type { TenantDb } from '../db/tenant-db.js';
import type { User } from '../generated/prisma/client.js';
import { scopedKey } from '../tenancy/scoped-key.js';
import { currentTenant } from '../tenancy/tenant-context.js';

/**
 * Per-request DataLoaders. Their cache keys carry the tenant, and each batch checks it still runs
 * for the tenant it was created for, so a loader can never answer one tenant with another's rows.
 */
export function createLoaders(db: TenantDb, tenantId: string) {
  const tenantKey = (id: string) => scopedKey([id], tenantId);
  const ownBatch =
    <K, V>(load: (keys: readonly K[]) => Promise<V[]>) =>
    (keys: readonly K[]) => {
      if (currentTenant('a DataLoader batch').tenantId !== tenantId) {
        throw new Error('a DataLoader was used outside the tenant it was created for');
      }
      return load(keys);
    };

  return {
    userById: new DataLoader<string, User | null, string>(
      ownBatch(async (ids) => {
        const users = await db.user.findMany({ where: { id: { in: [...ids] } } });
        const byId = new Map(users.map((user) => [user.id, user]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
      { cacheKeyFn: tenantKey },
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
