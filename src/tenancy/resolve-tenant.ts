import type { JWTPayload } from 'jose';
import { bearerToken } from '../auth/bearer-token.js';
import { type ClaimPath, parseClaimPath, readClaim } from '../auth/claim-path.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { TenantContext } from './tenant-context.js';
import type { Identity, MembershipRecord, TenantRecord, TenantRegistry } from './tenant-registry.js';

/**
 * A request that may not proceed. `status` and `code` go to the client with a generic message; the
 * `reason` goes to the log only, so a client cannot tell "no such tenant" from "not a member".
 */
/** Why a request with no Authorization header at all is refused (the log's `reason`). */
export const NO_BEARER_TOKEN = 'no bearer token';

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
  /** Claim path of the tenant's id or slug, for an issuer that names none of its own (JWT_TENANT_CLAIM). */
  tenantClaim: string;
  /**
   * Just-in-time users: called when a verified token of an existing tenant names an identity that
   * maps to no user, to create one. It grants nothing: the request is still refused until the new
   * user is made a member, which only the registry (an administrator) decides.
   */
  provisionUser?: (identity: Identity, claims: JWTPayload) => Promise<void>;
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

// What a subject may be: what user_identities can hold (and a pg_notify payload can carry).
const MAX_SUBJECT_LENGTH = 255;

export type TenantResolver = (input: ResolutionInput) => Promise<ResolvedTenant>;

/** token → verified claims → tenant (exists, active) → membership (role). Throws TenantRejection. */
export function createTenantResolver(options: TenantResolverOptions): TenantResolver {
  const claimPaths = new Map<string, ClaimPath>();
  const claimPath = (spec: string) => {
    const known = claimPaths.get(spec);
    if (known) return known;
    const path = parseClaimPath(spec);
    claimPaths.set(spec, path);
    return path;
  };
  return async ({ authorization, tenantHeader, requestId }) => {
    const token = bearerToken(authorization);
    if (!token) throw new TenantRejection(401, authorization ? 'malformed Authorization header' : NO_BEARER_TOKEN);

    let claims: JWTPayload;
    try {
      claims = await options.verifier.verify(token);
    } catch (error) {
      throw new TenantRejection(401, `token rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    const trusted = typeof claims.iss === 'string' ? options.verifier.issuer(claims.iss) : undefined;
    if (!trusted) throw new TenantRejection(401, 'token of an untrusted issuer');
    const sub = claims.sub;
    const tenantClaim = trusted.tenantClaim ?? options.tenantClaim;
    const claimedTenant = readClaim(claims, claimPath(tenantClaim));
    // No control characters: PostgreSQL cannot compare text holding a NUL byte, and PGlite cut the
    // value at the NUL, so `acme\u0000…` looked up, and was cached as, the tenant `acme`.
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH || hasControlCharacter(sub)) {
      throw new TenantRejection(401, 'token has no valid sub');
    }
    if (
      typeof claimedTenant !== 'string' ||
      claimedTenant.length === 0 ||
      claimedTenant.length > 128 ||
      hasControlCharacter(claimedTenant)
    ) {
      throw new TenantRejection(401, `token has no valid ${tenantClaim} claim`);
    }
    // One spelling per identity and tenant id from here on: the registry's cache keys, its
    // invalidation and the context all use it. A token spelling a UUID in upper case was otherwise
    // cached under that spelling, and removing the member (invalidated by the canonical id) left it
    // working for the registry's TTL. Other subjects and slugs are compared exactly.
    const identity: Identity = {
      issuer: trusted.issuer,
      subject: canonicalSubject(sub),
      ...(trusted.jwksUrl ? {} : { subjectIsUserId: true }),
    };
    const tenantRef = isUuid(claimedTenant) ? canonicalUuid(claimedTenant) : claimedTenant;

    // One registry lookup for a tenant's first request (tenant, user and membership together), none after.
    const { tenant, userId, membership } = await options.registry.access(tenantRef, identity);
    if (!tenant) throw new TenantRejection(403, `unknown tenant ${tenantRef}`);
    if (!tenant.active) throw new TenantRejection(403, `tenant ${tenant.id} is not active`);
    const header = tenantHeader && isUuid(tenantHeader) ? canonicalUuid(tenantHeader) : tenantHeader;
    if (header && header !== tenant.id && header !== tenant.slug) {
      throw new TenantRejection(403, `X-Tenant-ID ${tenantHeader} does not match the token's tenant ${tenant.id}`);
    }
    if (userId === null) {
      if (options.provisionUser) await options.provisionUser(identity, claims);
      throw new TenantRejection(
        403,
        `identity ${identity.subject} of ${identity.issuer} is no user${options.provisionUser ? ' (until now)' : ''}`,
      );
    }
    if (!membership) throw new TenantRejection(403, `user ${userId} is not a member of tenant ${tenant.id}`);

    return {
      context: { tenantId: tenant.id, tenantSlug: tenant.slug, userId, role: membership.role, requestId, identity },
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
      tenant,
      membership,
    };
  };
}

/** How a subject is compared and stored: a UUID in lower case (it names the same thing in any case), anything else exactly. */
export function canonicalSubject(subject: string): string {
  return isUuid(subject) ? canonicalUuid(subject) : subject;
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The spelling PostgreSQL prints a UUID in (lower case), which every cache key and comparison uses. */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}

/** Whether `value` holds a C0 control character or DEL (a NUL cannot even be compared by PostgreSQL). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
