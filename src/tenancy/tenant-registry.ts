/** What the registry needs to know of a tenant. */
export interface TenantRecord {
  id: string;
  slug: string;
  active: boolean;
  /** Shown to the caller as they are (viewer); a source may leave them out. */
  name?: string;
  plan?: string;
}

export interface MembershipRecord {
  role: string;
  /** The member as shown to themselves (viewer); a source may leave it out. */
  user?: { email: string; name: string };
}

/** Where the registry reads from on a cache miss (the system database path). */
export interface RegistrySource {
  /** Looks a tenant up by id or slug. */
  findTenant(idOrSlug: string): Promise<TenantRecord | null>;
  findMembership(tenantId: string, userId: string): Promise<MembershipRecord | null>;
}

export interface TenantRegistryOptions {
  /** How long an answer (found or not) is trusted. */
  ttlMs: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  value: Promise<T>;
  /** Set once the lookup has answered, so invalidation can match on it synchronously. */
  settled?: { value: T };
  expiresAt: number;
}

/**
 * The cached answer to "does this tenant exist, is it active, is this user a member and as what".
 * A warm request reads no table. Changes reach it by `invalidate*` (same process, or a notification
 * channel) and, at the latest, when the TTL runs out. Concurrent misses for one key share one query.
 */
export class TenantRegistry {
  private readonly tenants = new Map<string, Entry<TenantRecord | null>>();
  private readonly memberships = new Map<string, Entry<MembershipRecord | null>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly source: RegistrySource,
    options: TenantRegistryOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  tenant(idOrSlug: string): Promise<TenantRecord | null> {
    return this.cached(this.tenants, idOrSlug, () => this.source.findTenant(idOrSlug));
  }

  membership(tenantId: string, userId: string): Promise<MembershipRecord | null> {
    return this.cached(this.memberships, `${tenantId}\u0000${userId}`, () => this.source.findMembership(tenantId, userId));
  }

  /** Forgets a tenant (by id, under every key it was cached by) and all its memberships. */
  invalidateTenant(tenantId: string): void {
    for (const [key, entry] of this.tenants) {
      // An answer still in flight may be about this tenant: drop it too.
      if (key === tenantId || !entry.settled || entry.settled.value?.id === tenantId) this.tenants.delete(key);
    }
    for (const key of this.memberships.keys()) {
      if (key.startsWith(`${tenantId}\u0000`)) this.memberships.delete(key);
    }
  }

  invalidateMembership(tenantId: string, userId: string): void {
    this.memberships.delete(`${tenantId}\u0000${userId}`);
  }

  invalidateAll(): void {
    this.tenants.clear();
    this.memberships.clear();
  }

  private cached<T>(cache: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = this.now();
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = load();
    const entry: Entry<T> = { value, expiresAt: now + this.ttlMs };
    cache.set(key, entry);
    value.then(
      (settled) => {
        entry.settled = { value: settled };
      },
      // A failed lookup is not an answer: do not cache it.
      () => cache.get(key) === entry && cache.delete(key),
    );
    if (cache.size > this.maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return value;
  }
}
