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

/** A tenant and one user's membership of it, as one lookup answers them. */
export interface Access {
  tenant: TenantRecord | null;
  /** Null when the tenant does not exist or the user is not a member. */
  membership: MembershipRecord | null;
}

/** Where the registry reads from on a cache miss (the system database path). */
export interface RegistrySource {
  /** Looks a tenant up by id or slug. */
  findTenant(idOrSlug: string): Promise<TenantRecord | null>;
  findMembership(tenantId: string, userId: string): Promise<MembershipRecord | null>;
  /** Both at once, in one statement: what a tenant's first request costs. */
  findAccess(idOrSlug: string, userId: string): Promise<Access>;
}

export interface TenantRegistryOptions {
  /** How long an answer (found or not) is trusted while changes are not known to be pushed. */
  ttlMs: number;
  /** How long it is trusted while they are (changesPushed(true)): every change then drops it at once. */
  pushedTtlMs?: number;
  /** Entries kept at most in each of the two caches; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  value: Promise<T>;
  /** Set once the lookup has answered. */
  settled?: { value: T };
  /** The registry's clock when the lookup started: a change stamped later makes the entry stale. */
  loadedAt: number;
  expiresAt: number;
}

/**
 * The cached answer to "does this tenant exist, is it active, is this user a member and as what".
 * A warm request reads no table; a tenant's first request costs one lookup (`access`). Changes
 * reach it by `invalidate*` (same process, or a notification channel — every change to the
 * registry's tables is announced by a trigger) and, at the latest, when an answer's TTL runs out:
 * short while changes are not known to arrive, long while they are. Concurrent misses for one key
 * share one query.
 *
 * An invalidation stamps what it names (a tenant, a slug, a user, a membership) with the registry's
 * clock instead of searching the caches: an entry loaded before a stamp that concerns it is stale,
 * lookups still in flight included. So each change costs the same however many entries are cached,
 * and a bulk change of ten thousand tenants is ten thousand map writes.
 */
export class TenantRegistry {
  private readonly tenants = new Map<string, Entry<TenantRecord | null>>();
  private readonly memberships = new Map<string, Entry<MembershipRecord | null>>();
  /** What changed, and when (registry clock, wall time for pruning). */
  private readonly stamps = new Map<string, { clock: number; at: number }>();
  private pruneAt: number;
  private clock = 0;
  /** The clock of the last tenant change named by id alone: unsettled tenant lookups started before it are not trusted. */
  private tenantChangedAt = 0;
  /** The clock when the caches were last dropped: nothing loaded before it is trusted. */
  private flushedAt = 0;
  private pushed = false;
  private readonly ttlMs: number;
  private readonly pushedTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly source: RegistrySource,
    options: TenantRegistryOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.pushedTtlMs = Math.max(options.pushedTtlMs ?? options.ttlMs, options.ttlMs);
    this.maxEntries = options.maxEntries ?? 10_000;
    this.pruneAt = this.maxEntries * 2;
    this.now = options.now ?? Date.now;
  }

  /** The tenant `idOrSlug` and `userId`'s membership of it: cached, or one lookup for both. */
  async access(idOrSlug: string, userId: string): Promise<Access> {
    const cachedTenant = this.freshTenant(idOrSlug);
    if (cachedTenant) {
      const tenant = await cachedTenant.value;
      return { tenant, membership: tenant ? await this.membership(tenant.id, userId) : null };
    }
    const both = this.source.findAccess(idOrSlug, userId);
    const { loadedAt, expiresAt } = this.load(this.tenants, idOrSlug, () => both.then((answer) => answer.tenant));
    const answer = await both;
    if (answer.tenant) {
      this.alias(answer.tenant, loadedAt, expiresAt);
      const key = membershipKey(answer.tenant.id, userId);
      // Unless a newer answer is already there (another request's).
      if (!this.freshMembership(key)) {
        this.store(this.memberships, key, {
          value: Promise.resolve(answer.membership),
          settled: { value: answer.membership },
          loadedAt,
          expiresAt,
        });
      }
    }
    return answer;
  }

  tenant(idOrSlug: string): Promise<TenantRecord | null> {
    const hit = this.freshTenant(idOrSlug);
    if (hit) return hit.value;
    const entry = this.load(this.tenants, idOrSlug, () => this.source.findTenant(idOrSlug));
    entry.value.then(
      (tenant) => tenant && this.alias(tenant, entry.loadedAt, entry.expiresAt),
      () => {},
    );
    return entry.value;
  }

  /**
   * Files a tenant found under one key (its slug, as tokens name it) under the other too (its id,
   * as the subscription re-checks ask for it), unless a fresher answer is there: one lookup serves both.
   */
  private alias(tenant: TenantRecord, loadedAt: number, expiresAt: number): void {
    for (const key of [tenant.id, tenant.slug]) {
      if (this.freshTenant(key)) continue;
      this.store(this.tenants, key, { value: Promise.resolve(tenant), settled: { value: tenant }, loadedAt, expiresAt });
    }
  }

  membership(tenantId: string, userId: string): Promise<MembershipRecord | null> {
    const key = membershipKey(tenantId, userId);
    return (this.freshMembership(key) ?? this.load(this.memberships, key, () => this.source.findMembership(tenantId, userId)))
      .value;
  }

  /** Forgets a tenant (by id, by `slug` when given, under whatever key it was cached) and all its memberships. */
  invalidateTenant(tenantId: string, slug?: string): void {
    this.stamp(`t:${tenantId}`);
    if (slug !== undefined) this.stamp(`s:${slug}`);
    // A lookup by slug still in flight may be about this tenant, and without the slug it cannot be
    // told: none of those started before now is trusted.
    else this.tenantChangedAt = this.clock;
  }

  invalidateMembership(tenantId: string, userId: string): void {
    this.stamp(`m:${membershipKey(tenantId, userId)}`);
  }

  /** Forgets every membership of a user (renamed, deleted). */
  invalidateUser(userId: string): void {
    this.stamp(`u:${userId}`);
  }

  invalidateAll(): void {
    this.tenants.clear();
    this.memberships.clear();
    this.stamps.clear();
    // Lookups still in flight answer their callers but are no longer cached as fresh.
    this.clock++;
    this.flushedAt = this.clock;
  }

  /**
   * Whether every change is known to reach `invalidate*` now. When they stop being pushed the cache
   * is dropped: an answer kept under the long TTL must not outlive the channel that justified it.
   * (When they start, the answers already cached keep their short TTL and expire by it.)
   */
  changesPushed(live: boolean): void {
    if (live === this.pushed) return;
    this.pushed = live;
    if (!live) this.invalidateAll();
  }

  get changesArePushed(): boolean {
    return this.pushed;
  }

  private expiry(): number {
    return this.now() + (this.pushed ? this.pushedTtlMs : this.ttlMs);
  }

  private stamp(key: string): void {
    const now = this.now();
    this.stamps.delete(key);
    this.stamps.set(key, { clock: ++this.clock, at: now });
    if (this.stamps.size > this.pruneAt) {
      // A stamp older than every TTL can only concern entries that have expired anyway; stamps are
      // kept in time order, so the old ones are at the front. Pruned again only once the map has
      // doubled, so that a burst of recent changes costs each of them O(1).
      const horizon = now - this.pushedTtlMs;
      for (const [stamped, { at }] of this.stamps) {
        if (at >= horizon) break;
        this.stamps.delete(stamped);
      }
      this.pruneAt = Math.max(this.maxEntries * 2, this.stamps.size * 2);
    }
  }

  private changedSince(key: string, entry: Entry<unknown>): boolean {
    const stamp = this.stamps.get(key);
    return stamp !== undefined && stamp.clock > entry.loadedAt;
  }

  /** A tenant entry still to be trusted: not expired, and neither its key nor the tenant it names changed since. */
  private freshTenant(key: string): Entry<TenantRecord | null> | undefined {
    const entry = this.unexpired(this.tenants, key);
    if (!entry || this.changedSince(`t:${key}`, entry) || this.changedSince(`s:${key}`, entry)) return undefined;
    // Still in flight, the tenant it will name is not known yet: the next caller checks it again.
    if (!entry.settled && entry.loadedAt < this.tenantChangedAt) return undefined;
    const tenant = entry.settled?.value;
    if (tenant && (this.changedSince(`t:${tenant.id}`, entry) || this.changedSince(`s:${tenant.slug}`, entry))) return undefined;
    return entry;
  }

  /** A membership entry still to be trusted: not expired, and neither it, its tenant nor its user changed since. */
  private freshMembership(key: string): Entry<MembershipRecord | null> | undefined {
    const entry = this.unexpired(this.memberships, key);
    if (!entry) return undefined;
    const [tenantId, userId] = key.split('\u0000') as [string, string];
    const stale =
      this.changedSince(`m:${key}`, entry) ||
      this.changedSince(`t:${tenantId}`, entry) ||
      this.changedSince(`u:${userId}`, entry);
    return stale ? undefined : entry;
  }

  private unexpired<T>(cache: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = cache.get(key);
    return entry && entry.expiresAt > this.now() && entry.loadedAt > this.flushedAt ? entry : undefined;
  }

  /** Starts a lookup and caches its answer under `key`, stamped with the clock it started at. */
  private load<T>(cache: Map<string, Entry<T>>, key: string, lookUp: () => Promise<T>): Entry<T> {
    return this.store(cache, key, { value: lookUp(), loadedAt: ++this.clock, expiresAt: this.expiry() });
  }

  private store<T>(cache: Map<string, Entry<T>>, key: string, entry: Entry<T>): Entry<T> {
    cache.delete(key);
    cache.set(key, entry);
    entry.value.then(
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
    return entry;
  }
}

function membershipKey(tenantId: string, userId: string): string {
  return `${tenantId}\u0000${userId}`;
}
