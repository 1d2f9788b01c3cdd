import { describe, expect, it } from 'vitest';
import { LeasedClients } from '../../../src/tenancy/leased-clients.js';
import type { TenantContext } from '../../../src/tenancy/tenant-context.js';

const context = (tenantId: string, requestId: string): TenantContext =>
  Object.freeze({ tenantId, tenantSlug: tenantId, userId: 'u', role: 'OWNER', requestId });

describe('leased clients, when every one is taken', () => {
  it('serve waiting tenants in turn, so that one tenant’s burst does not go before everyone else', async () => {
    const pool = new LeasedClients(() => ({}), { size: 1, waitMs: 5_000 });
    const holder = await pool.lease(context('noisy', 'first'));
    const served: string[] = [];
    const ask = (tenant: string, request: string) =>
      pool.lease(context(tenant, request)).then((lease) => {
        served.push(`${tenant}:${request}`);
        // Each served request ends at once and gives its client to the next in turn.
        setTimeout(() => lease.release(), 1);
      });
    // The noisy tenant queues five requests before the quiet ones queue one each.
    const asked = [1, 2, 3, 4, 5].map((n) => ask('noisy', String(n)));
    asked.push(ask('quiet-a', '1'), ask('quiet-b', '1'));
    holder.release();
    await Promise.all(asked);
    expect(served.slice(0, 3)).toEqual(['noisy:1', 'quiet-a:1', 'quiet-b:1']);
    expect(served.slice(3)).toEqual(['noisy:2', 'noisy:3', 'noisy:4', 'noisy:5']);
    expect(pool.made).toBe(1);
  });
});
