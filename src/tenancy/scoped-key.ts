import { currentTenant } from './tenant-context.js';

/**
 * Builds a cache key or pub/sub topic that always starts with the tenant, so no key can be shared
 * across tenants by accident. `tenantId` defaults to the bound tenant (and fails closed without one).
 */
export function scopedKey(parts: readonly (string | number)[], tenantId = currentTenant('a scoped key').tenantId): string {
  if (!tenantId) throw new Error('a scoped key needs a tenant id');
  for (const part of parts) {
    if (String(part).includes('\u0000')) throw new Error('key parts may not contain NUL');
  }
  return [`t:${tenantId}`, ...parts.map(String)].join('\u0000');
}
