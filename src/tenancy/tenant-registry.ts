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

/**
 * Who a verified token names: its issuer and subject, as the token spells them (a UUID subject in
 * lower case: see `canonicalSubject`). Never our own user id, except for the development signer.
 */
export interface Identity {
  issuer: string;
  subject: string;
  /**
   * The issuer is this server's own development signer, whose tokens name the user by id: a subject
   * with no registered identity is then taken as a user id. Always the same for a given issuer.
   */
  subjectIsUserId?: boolean;
}

/** The user an identity maps to, and that user's membership of one tenant. */
export interface Member {
  /** Null when the identity maps to no user. */
  userId: string | null;
  /** Null when there is no such user or they are not a member. */
  membership: MembershipRecord | null;
}

/** A tenant and one identity's membership of it, as one lookup answers them. */
export interface Access extends Member {
  tenant: TenantRecord | null;
}

/** Where the registry reads from on a cache miss (the system database path). */
export interface RegistrySource {
  /** Looks a tenant up by id or slug. */
  findTenant(idOrSlug: string): Promise<TenantRecord | null>;
  findMembership(tenantId: string, identity: Identity): Promise<Member>;
  /** Both at once, in one statement (identity, user and membership included): what a tenant's first request costs. */
  findAccess(idOrSlug: string, identity: Identity): Promise<Access>;
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
 * The cached answer to "does this tenant exist, is it active, who is this identity and are they a
 * member, as what".
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
  /** Keyed by tenant id and identity; each answer names the user it found, whose changes make it stale. */
  private readonly memberships = new Map<string, Entry<Member>>();
  /** What changed, and when (registry clock, wall time for pruning). */
  private readonly stamps = new Map<string, { clock: number; at: number }>();
  private pruneAt: number;
  private clock = 0;
  /** The clock of the last tenant change named by id alone: unsettled tenant lookups started before it are not trusted. */
  private tenantChangedAt = 0;
  /** The clock of the last user or membership change: unsettled membership lookups (user not known yet) started before it are not trusted. */
  private userChangedAt = 0;
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

  /** The tenant `idOrSlug` and `identity`'s membership of it: cached, or one lookup for both. */
  async access(idOrSlug: string, identity: Identity): Promise<Access> {
    const cachedTenant = this.freshTenant(idOrSlug);
    if (cachedTenant) {
      const tenant = await cachedTenant.value;
      return { tenant, ...(tenant ? await this.membership(tenant.id, identity) : NO_MEMBER) };
    }
    const both = this.source.findAccess(idOrSlug, identity);
    const { loadedAt, expiresAt } = this.load(this.tenants, idOrSlug, () => both.then((answer) => answer.tenant));
    const answer = await both;
    if (answer.tenant) {
      this.alias(answer.tenant, loadedAt, expiresAt);
      const key = membershipKey(answer.tenant.id, identity);
      // Unless a newer answer is already there (another request's).
      if (!this.freshMembership(key)) {
        const member = { userId: answer.userId, membership: answer.membership };
        this.store(this.memberships, key, { value: Promise.resolve(member), settled: { value: member }, loadedAt, expiresAt });
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

  /** Who `identity` is and their membership of the tenant `tenantId` (the subscriptions' re-check). */
  membership(tenantId: string, identity: Identity): Promise<Member> {
    const key = membershipKey(tenantId, identity);
    return (this.freshMembership(key) ?? this.load(this.memberships, key, () => this.source.findMembership(tenantId, identity)))
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
    this.stamp(`m:${tenantId}\u0000${userId}`);
    this.userChangedAt = this.clock;
  }

  /** Forgets every membership of a user (renamed, deleted). */
  invalidateUser(userId: string): void {
    this.stamp(`u:${userId}`);
    this.userChangedAt = this.clock;
  }

  /** Forgets who an identity is (registered, moved to another user, removed), and so all access through it. */
  invalidateIdentity(issuer: string, subject: string): void {
    this.stamp(`i:${identityKey(issuer, subject)}`);
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

  /**
   * A membership entry still to be trusted: not expired, and neither its identity, its tenant, the
   * user it found nor that user's membership changed since.
   */
  private freshMembership(key: string): Entry<Member> | undefined {
    const entry = this.unexpired(this.memberships, key);
    if (!entry) return undefined;
    const separator = key.indexOf('\u0000');
    const tenantId = key.slice(0, separator);
    if (this.changedSince(`t:${tenantId}`, entry) || this.changedSince(`i:${key.slice(separator + 1)}`, entry)) return undefined;
    // Still in flight, the user it will name is not known yet: the next caller checks it again.
    if (!entry.settled) return entry.loadedAt < this.userChangedAt ? undefined : entry;
    const { userId } = entry.settled.value;
    if (userId === null) return entry;
    const stale = this.changedSince(`u:${userId}`, entry) || this.changedSince(`m:${tenantId}\u0000${userId}`, entry);
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

const NO_MEMBER: Member = Object.freeze({ userId: null, membership: null });

// Issuers are configured and subjects hold no control character (the resolver refuses them), so
// NUL separates the parts unambiguously.
function identityKey(issuer: string, subject: string): string {
  return `${issuer}\u0000${subject}`;
}

function membershipKey(tenantId: string, identity: Identity): string {
  return `${tenantId}\u0000${identityKey(identity.issuer, identity.subject)}`;
}
