import { bearerToken } from '../auth/bearer-token.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { TenantContext } from './tenant-context.js';
import type { MembershipRecord, TenantRecord, TenantRegistry } from './tenant-registry.js';

/**
 * A request that may not proceed. `status` and `code` go to the client with a generic message; the
 * `reason` goes to the log only, so a client cannot tell "no such tenant" from "not a member".
 */
export class TenantRejection extends Error {
  override name = 'TenantRejection';
  constructor(
    readonly status: 401 | 403,
    readonly reason: string,
  ) {
    super(status === 401 ? 'Authentication required' : 'Access denied');
  }
  get code(): 'UNAUTHENTICATED' | 'FORBIDDEN' {
    return this.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
  }
}

export interface TenantResolverOptions {
  verifier: TokenVerifier;
  registry: TenantRegistry;
  /** Claim holding the tenant's id or slug. */
  tenantClaim: string;
}

export interface ResolutionInput {
  authorization: string | null | undefined;
  /** Optional `X-Tenant-ID`: when present it must name the token's tenant. */
  tenantHeader: string | null | undefined;
  requestId: string;
}

/** Resolved identity plus the token's expiry, which long-lived connections re-check. */
export interface ResolvedTenant {
  context: TenantContext;
  expiresAt: number | undefined;
  /** The registry's records behind it (cached): what `viewer` shows without a query. */
  tenant: TenantRecord;
  membership: MembershipRecord;
}

export type TenantResolver = (input: ResolutionInput) => Promise<ResolvedTenant>;

/** token → verified claims → tenant (exists, active) → membership (role). Throws TenantRejection. */
export function createTenantResolver(options: TenantResolverOptions): TenantResolver {
  return async ({ authorization, tenantHeader, requestId }) => {
    const token = bearerToken(authorization);
    if (!token) throw new TenantRejection(401, authorization ? 'malformed Authorization header' : 'no bearer token');

    let claims: Awaited<ReturnType<TokenVerifier['verify']>>;
    try {
      claims = await options.verifier.verify(token);
    } catch (error) {
      throw new TenantRejection(401, `token rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    const sub = claims.sub;
    const claimedTenant = claims[options.tenantClaim];
    if (typeof sub !== 'string' || !isUuid(sub)) throw new TenantRejection(401, 'token has no valid sub');
    // No control characters: PostgreSQL cannot compare text holding a NUL byte, and PGlite cut the
    // value at the NUL, so `acme\u0000…` looked up, and was cached as, the tenant `acme`.
    if (
      typeof claimedTenant !== 'string' ||
      claimedTenant.length === 0 ||
      claimedTenant.length > 128 ||
      hasControlCharacter(claimedTenant)
    ) {
      throw new TenantRejection(401, `token has no valid ${options.tenantClaim} claim`);
    }
    // One spelling per id from here on: the registry's cache keys, its invalidation and the context
    // all use it. A token spelling the user's UUID in upper case was otherwise cached under that
    // spelling, and removing the member (invalidated by the canonical id) left it working for the
    // registry's TTL. Slugs are not ids and stay as they are.
    const userId = canonicalUuid(sub);
    const tenantRef = isUuid(claimedTenant) ? canonicalUuid(claimedTenant) : claimedTenant;

    // One registry lookup for a tenant's first request (tenant and membership together), none after.
    const { tenant, membership } = await options.registry.access(tenantRef, userId);
    if (!tenant) throw new TenantRejection(403, `unknown tenant ${tenantRef}`);
    if (!tenant.active) throw new TenantRejection(403, `tenant ${tenant.id} is not active`);
    const header = tenantHeader && isUuid(tenantHeader) ? canonicalUuid(tenantHeader) : tenantHeader;
    if (header && header !== tenant.id && header !== tenant.slug) {
      throw new TenantRejection(403, `X-Tenant-ID ${tenantHeader} does not match the token's tenant ${tenant.id}`);
    }
    if (!membership) throw new TenantRejection(403, `user ${userId} is not a member of tenant ${tenant.id}`);

    return {
      context: { tenantId: tenant.id, tenantSlug: tenant.slug, userId, role: membership.role, requestId },
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
      tenant,
      membership,
    };
  };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The spelling PostgreSQL prints a UUID in (lower case), which every cache key and comparison uses. */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
