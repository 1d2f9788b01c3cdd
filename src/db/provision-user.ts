import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { parseClaimPath, readClaim } from '../auth/claim-path.js';
import { isUniqueViolation } from '../errors/database-errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import type { Identity } from '../tenancy/tenant-registry.js';

export interface UserProvisionerOptions {
  /** Claim path of the new user's email (JIT_EMAIL_CLAIM). */
  emailClaim: string;
  /** Claim path of the flag saying the provider verified that email (JIT_EMAIL_VERIFIED_CLAIM); it must be `true`. */
  emailVerifiedClaim: string;
  logger: Logger;
  /**
   * How long an identity just tried is not tried again: a flood of its requests costs no writes, and
   * a registry still holding "no such user" (until the change reaches it) causes no second attempt.
   */
  retryAfterMs?: number;
  now?: () => number;
}

const email = z.email().max(320);
const name = z.string().trim().min(1).max(200);

/**
 * Just-in-time users: the first valid token naming an unknown identity creates a user from the
 * token's email (and `name`), with that identity — one statement, so a user never exists without
 * it. It never links to an existing user: an email already taken (by a user of another provider,
 * say) is left alone, since anyone can put any address in a token of a provider they control. And
 * the email must be one the provider verified (the flag must say `true`; absent is not enough):
 * administrators grant memberships by email, so an unverified address claimed first would receive
 * the access meant for its owner. The new user is a member of nothing:
 * access still comes only from the registry.
 */
export function createUserProvisioner(
  prisma: PrismaClient,
  options: UserProvisionerOptions,
): (identity: Identity, claims: JWTPayload) => Promise<void> {
  const emailPath = parseClaimPath(options.emailClaim);
  const verifiedPath = parseClaimPath(options.emailVerifiedClaim);
  const retryAfterMs = options.retryAfterMs ?? 60_000;
  const now = options.now ?? Date.now;
  const tried = new Map<string, number>();
  const remember = (key: string) => {
    if (tried.size >= 10_000) tried.delete(tried.keys().next().value as string);
    tried.set(key, now() + retryAfterMs);
  };
  const decline = (key: string, reason: string, identity: Identity) => {
    increment('jit_user_declined');
    options.logger.warn({ issuer: identity.issuer, subject: identity.subject, reason }, 'no user created for a new identity');
    remember(key);
  };

  return async (identity, claims) => {
    const key = `${identity.issuer}\u0000${identity.subject}`;
    const until = tried.get(key);
    if (until !== undefined && until > now()) return;
    tried.delete(key);

    const address = email.safeParse(readClaim(claims, emailPath));
    if (!address.success) return decline(key, `no valid email at ${options.emailClaim}`, identity);
    if (readClaim(claims, verifiedPath) !== true) {
      return decline(key, `the token does not say the email is verified (${options.emailVerifiedClaim}: true)`, identity);
    }
    const userEmail = address.data.toLowerCase();
    const given = name.safeParse(claims.name);
    const userName = given.success ? given.data : (userEmail.split('@')[0] ?? userEmail);
    try {
      const created = await prisma.$executeRaw`
        WITH created AS (
          INSERT INTO users (email, name) VALUES (${userEmail}, ${userName})
          ON CONFLICT (email) DO NOTHING
          RETURNING id
        )
        INSERT INTO user_identities (issuer, subject, user_id) SELECT ${identity.issuer}, ${identity.subject}, id FROM created`;
      if (created === 0) return decline(key, 'its email belongs to another user', identity);
      remember(key);
      increment('jit_user_created');
      options.logger.info({ issuer: identity.issuer, subject: identity.subject }, 'user created for a new identity');
    } catch (error) {
      // The same identity created at the same moment by another request: that one won, nothing to do.
      if (!isUniqueViolation(error)) throw error;
    }
  };
}
