import { describe, expect, it } from 'vitest';
import { type Identity, type RegistrySource, TenantRegistry } from '../../../src/tenancy/tenant-registry.js';

/** An identity of the test's provider; its subject names the user `u-<subject>` (see `identities`). */
const who = (subject: string): Identity => ({ issuer: 'https://idp.test/', subject });
const OWNER = { role: 'OWNER' };

function fakeSource() {
  const calls: string[] = [];
  const tenants = new Map([['acme', { id: 'id-acme', slug: 'acme', active: true }]]);
  const identities = new Map([
    ['alice', 'u-alice'],
    ['bob', 'u-bob'],
  ]);
  const members = new Set(['id-acme:u-alice']);
  const member = (tenantId: string, identity: Identity) => {
    const userId = identities.get(identity.subject) ?? null;
    return { userId, membership: userId && members.has(`${tenantId}:${userId}`) ? OWNER : null };
  };
  const source: RegistrySource = {
    async findTenant(ref) {
      calls.push(`tenant:${ref}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [...tenants.values()].find((tenant) => tenant.id === ref || tenant.slug === ref) ?? null;
    },
    async findMembership(tenantId, identity) {
      calls.push(`member:${tenantId}:${identity.subject}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return member(tenantId, identity);
    },
    async findAccess(ref, identity) {
      calls.push(`access:${ref}:${identity.subject}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const tenant = [...tenants.values()].find((candidate) => candidate.id === ref || candidate.slug === ref) ?? null;
      return tenant ? { tenant, ...member(tenant.id, identity) } : { tenant, userId: null, membership: null };
    },
  };
  return { source, calls, tenants, identities, members };
}

describe('the tenant registry', () => {
  it('answers warm lookups from its cache, found or not, and shares one query among concurrent misses', async () => {
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    const answers = await Promise.all([registry.tenant('acme'), registry.tenant('acme'), registry.tenant('acme')]);
    expect(answers.every((answer) => answer?.id === 'id-acme')).toBe(true);
    expect(await registry.tenant('nope')).toBeNull();
    expect(await registry.tenant('nope')).toBeNull();
    expect(await registry.membership('id-acme', who('alice'))).toEqual({ userId: 'u-alice', membership: OWNER });
    expect(await registry.membership('id-acme', who('alice'))).toEqual({ userId: 'u-alice', membership: OWNER });
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
    await registry.membership('id-acme', who('alice'));
    tenants.set('acme', { id: 'id-acme', slug: 'acme', active: false });
    registry.invalidateTenant('id-acme');
    expect((await registry.tenant('acme'))?.active).toBe(false);
    expect((await registry.tenant('id-acme'))?.active).toBe(false);
    await registry.membership('id-acme', who('alice'));
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
        findMembership: async () => ({ userId: null, membership: null }),
        findAccess: async () => ({ tenant: null, userId: null, membership: null }),
      },
      { ttlMs: 60_000 },
    );
    await expect(registry.tenant('x')).rejects.toThrow('database down');
    fail = false;
    expect(await registry.tenant('x')).toEqual({ id: 'x', slug: 'x', active: true });
  });

  it('answers a tenant’s first request with one lookup for tenant and membership, and the next with none', async () => {
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    expect(await registry.access('acme', who('alice'))).toEqual({
      tenant: expect.objectContaining({ id: 'id-acme' }),
      userId: 'u-alice',
      membership: OWNER,
    });
    expect(await registry.access('acme', who('alice'))).toMatchObject({ membership: OWNER });
    expect(await registry.membership('id-acme', who('alice'))).toEqual({ userId: 'u-alice', membership: OWNER });
    // Another user of a tenant already known: only their membership is looked up.
    expect(await registry.access('acme', who('bob'))).toMatchObject({ userId: 'u-bob', membership: null });
    expect(await registry.access('nope', who('alice'))).toEqual({ tenant: null, userId: null, membership: null });
    expect(calls).toEqual(['access:acme:alice', 'member:id-acme:bob', 'access:nope:alice']);
  });

  it('forgets "not a member" and "no such tenant" when the membership or the tenant (by slug) appears', async () => {
    const { source, tenants, members } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    expect((await registry.access('acme', who('bob'))).membership).toBeNull();
    expect((await registry.access('globex', who('bob'))).tenant).toBeNull();
    members.add('id-acme:u-bob');
    registry.invalidateMembership('id-acme', 'u-bob');
    tenants.set('globex', { id: 'id-globex', slug: 'globex', active: true });
    registry.invalidateTenant('id-globex', 'globex');
    expect((await registry.access('acme', who('bob'))).membership).toEqual(OWNER);
    expect((await registry.access('globex', who('bob'))).tenant?.id).toBe('id-globex');
  });

  it('forgets every membership of a changed user', async () => {
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    await registry.membership('id-acme', who('alice'));
    registry.invalidateUser('u-alice');
    await registry.membership('id-acme', who('alice'));
    expect(calls).toEqual(['member:id-acme:alice', 'member:id-acme:alice']);
  });

  it('does not keep, as fresh, an answer whose lookup was in flight when the tenant changed', async () => {
    const { source, calls, tenants } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    const inFlight = registry.tenant('acme');
    tenants.set('acme', { id: 'id-acme', slug: 'acme', active: false });
    registry.invalidateTenant('id-acme');
    await inFlight; // answered its callers, whatever it read…
    expect((await registry.tenant('acme'))?.active).toBe(false); // …but is not trusted after the change
    expect(calls).toEqual(['tenant:acme', 'tenant:acme']);
  });

  it('trusts answers for pushedTtlMs while changes are pushed, and drops them all when that stops', async () => {
    let now = 0;
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 5_000, pushedTtlMs: 600_000, now: () => now });
    await registry.tenant('acme');
    registry.changesPushed(true);
    await registry.tenant('acme'); // cached before: kept, with its short TTL…
    now = 5_001;
    await registry.tenant('acme'); // …which then runs out
    now = 300_000;
    await registry.tenant('acme'); // cached while pushed: still trusted
    registry.changesPushed(false);
    await registry.tenant('acme'); // dropped when pushing stopped…
    now = 306_000;
    await registry.tenant('acme'); // …and trusted for ttlMs only from then on
    expect(calls).toEqual(['tenant:acme', 'tenant:acme', 'tenant:acme', 'tenant:acme']);
  });

  it('does not trust a lookup by slug in flight when its tenant changes, though the change names only the id', async () => {
    const { source, calls, tenants } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    const inFlight = registry.tenant('acme');
    tenants.set('acme', { id: 'id-acme', slug: 'acme', active: false });
    registry.invalidateTenant('id-acme');
    // Asked while the first lookup is still on its way: it must not join it.
    const after = registry.tenant('acme');
    await inFlight;
    expect((await after)?.active).toBe(false);
    expect(calls).toEqual(['tenant:acme', 'tenant:acme']);
  });

  it('costs the same per change however many entries are cached', async () => {
    const { source } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000, maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) registry.invalidateTenant(`id-${i}`, `slug-${i}`);
    // Stamps are pruned only once older than every TTL; until then they are bounded by the changes made.
    expect(await registry.tenant('acme')).toMatchObject({ id: 'id-acme' });
  });

  it('files a tenant found by slug under its id too: the subscriptions’ re-check by id costs no lookup', async () => {
    const { source, calls } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    await registry.access('acme', who('alice'));
    expect(await registry.tenant('id-acme')).toMatchObject({ slug: 'acme' });
    expect(await registry.membership('id-acme', who('alice'))).toEqual({ userId: 'u-alice', membership: OWNER });
    await registry.tenant('acme');
    expect(await registry.tenant('id-acme')).toMatchObject({ slug: 'acme' });
    expect(calls).toEqual(['access:acme:alice']);
    // …and forgets both when the tenant changes.
    registry.invalidateTenant('id-acme');
    await registry.tenant('acme');
    await registry.tenant('id-acme');
    expect(calls).toEqual(['access:acme:alice', 'tenant:acme']);
  });

  it('forgets who an identity is when it is registered, moved or removed, and "no such user" with it', async () => {
    const { source, calls, identities, members } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    members.add('id-acme:u-carol');
    expect(await registry.access('acme', who('carol'))).toMatchObject({ userId: null, membership: null });
    identities.set('carol', 'u-carol');
    registry.invalidateIdentity('https://idp.test/', 'carol');
    expect(await registry.access('acme', who('carol'))).toMatchObject({ userId: 'u-carol', membership: OWNER });
    expect(await registry.membership('id-acme', who('carol'))).toMatchObject({ userId: 'u-carol' });
    identities.delete('carol');
    registry.invalidateIdentity('https://idp.test/', 'carol');
    expect(await registry.membership('id-acme', who('carol'))).toEqual({ userId: null, membership: null });
    // Another issuer's identity of the same subject is another identity: not forgotten.
    registry.invalidateIdentity('https://other.test/', 'alice');
    await registry.membership('id-acme', who('alice'));
    await registry.membership('id-acme', who('alice'));
    expect(calls).toEqual(['access:acme:carol', 'member:id-acme:carol', 'member:id-acme:carol', 'member:id-acme:alice']);
  });

  it('forgets a membership answer through the user it found, though it was keyed by the identity', async () => {
    const { source, calls, members } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    expect((await registry.access('acme', who('alice'))).membership).toEqual(OWNER);
    members.delete('id-acme:u-alice');
    registry.invalidateMembership('id-acme', 'u-alice');
    expect((await registry.access('acme', who('alice'))).membership).toBeNull();
    expect(calls).toEqual(['access:acme:alice', 'member:id-acme:alice']);
  });

  it('does not trust a membership lookup that was in flight when a membership changed (its user was not known yet)', async () => {
    const { source, calls, members } = fakeSource();
    const registry = new TenantRegistry(source, { ttlMs: 60_000 });
    await registry.tenant('acme');
    const inFlight = registry.membership('id-acme', who('alice'));
    members.delete('id-acme:u-alice');
    registry.invalidateMembership('id-acme', 'u-alice');
    const after = registry.membership('id-acme', who('alice'));
    await inFlight;
    expect((await after).membership).toBeNull();
    expect(calls).toEqual(['tenant:acme', 'member:id-acme:alice', 'member:id-acme:alice']);
  });
});
