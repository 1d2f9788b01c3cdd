import type { TenantContext } from './tenant-context.js';
import type { TenantRegistry } from './tenant-registry.js';

/** Why a long-lived connection may no longer receive data, with the websocket close code to use. */
export interface Revocation {
  code: 4401 | 4403;
  reason: 'token expired' | 'tenant not active' | 'membership revoked';
}

/**
 * Re-asserts, cheaply (registry cache, no SQL when warm), what the context factory established once:
 * the token is still valid, the tenant still active, its identity still the same user, still a member. Subscriptions run
 * this before every message and on an interval while idle.
 */
export async function findRevocation(
  registry: TenantRegistry,
  tenant: TenantContext,
  tokenExpiresAt: number | undefined,
  now = Date.now(),
): Promise<Revocation | undefined> {
  if (tokenExpiresAt !== undefined && tokenExpiresAt <= now) return { code: 4401, reason: 'token expired' };
  const record = await registry.tenant(tenant.tenantId);
  if (!record?.active) return { code: 4403, reason: 'tenant not active' };
  // Through the identity, as the token named it: removing the identity revokes like removing the member.
  const member = tenant.identity ? await registry.membership(tenant.tenantId, tenant.identity) : undefined;
  if (!member?.membership || member.userId !== tenant.userId) return { code: 4403, reason: 'membership revoked' };
  return undefined;
}
