import { describe, expect, it } from 'vitest';
import { type RegistrySource, TenantRegistry } from '../../../src/tenancy/tenant-registry.js';

function fakeSource() {
  const calls: string[] = [];
  const tenants = new Map([['acme', { id: 'id-acme', slug: 'acme', active: true }]]);
  const source: RegistrySource = {
    async findTenant(ref) {
      calls.push(`tenant:${ref}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [...tenants.values()].find((tenant) => tenant.id === ref || tenant.slug === ref) ?? null;
    },
    async findMembership(tenantId, userId) {
      calls.push(`member:${tenantId}:${userId}`);
      return userId === 'alice' ? { role: 'OWNER' } : null;
    },
  };
  return { source, calls, tenants };
}

describe('the tenant registry', () => {
  it('answers warm lookups from its cache, found or not, and shares one query among concurrent misses', async () => {
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    const answers = await Promise.all([registry.tenant('acme'), registry.tenant('acme'), registry.tenant('acme')]);
    expect(answers.every((answer) => answer?.id === 'id-acme')).toBe(true);
    expect(await registry.tenant('nope')).toBeNull();
    expect(await registry.tenant('nope')).toBeNull();
    expect(await registry.membership('id-acme', 'alice')).toEqual({ role: 'OWNER' });
    expect(await registry.membership('id-acme', 'alice')).toEqual({ role: 'OWNER' });
    expect(calls).toEqual(['tenant:acme', 'tenant:nope', 'member:id-acme:alice']);
  });

  it('asks again once the TTL has passed', async () => {
    let now = 0;
    const { source, calls, tenants } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 5_000, now: () => now });
    await registry.tenant('acme');
    tenants.set('acme', { id: 'id-acme', slug: 'acme', active: false });
    now = 4_999;
    expect((await registry.tenant('acme'))?.active).toBe(true);
    now = 5_001;
    expect((await registry.tenant('acme'))?.active).toBe(false);
    expect(calls).toEqual(['tenant:acme', 'tenant:acme']);
  });

  it('forgets a tenant under every key it was cached by, and its memberships, when invalidated', async () => {
    const { source, calls, tenants } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    await registry.tenant('acme');
    await registry.tenant('id-acme');
    await registry.membership('id-acme', 'alice');
    tenants.set('acme', { id: 'id-acme', slug: 'acme', active: false });
    registry.invalidateTenant('id-acme');
    expect((await registry.tenant('acme'))?.active).toBe(false);
    expect((await registry.tenant('id-acme'))?.active).toBe(false);
    await registry.membership('id-acme', 'alice');
    expect(calls.filter((call) => call.startsWith('member:'))).toHaveLength(2);
  });

  it('does not cache a failed lookup', async () => {
    let fail = true;
    const registry = new TenantRegistry(
      {
        findTenant: async () => {
          if (fail) throw new Error('database down');
          return { id: 'x', slug: 'x', active: true };
        },
        findMembership: async () => null,
      },
      { ttlMs: 60_000 },
    );
    await expect(registry.tenant('x')).rejects.toThrow('database down');
    fail = false;
    expect(await registry.tenant('x')).toEqual({ id: 'x', slug: 'x', active: true });
  });
});
