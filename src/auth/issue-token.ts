import { SignJWT } from 'jose';
import { claimsAt, parseClaimPath } from './claim-path.js';
import type { DevSigningKey } from './dev-signing-key.js';

export interface IssueTokenOptions {
  /** The token's sub: a user id (what the development signer's tokens name), or a subject registered for `issuer`. */
  userId: string;
  tenant: string;
  issuer: string;
  audience: string;
  tenantClaim: string;
  /** Lifetime, in jose's words: '1h', '30d', … */
  ttl: string | number;
}

/** Signs a development token. Production tokens come from the identity provider behind JWT_JWKS_URL. */
export function issueDevToken(key: DevSigningKey, options: IssueTokenOptions): Promise<string> {
  return new SignJWT(claimsAt(parseClaimPath(options.tenantClaim), options.tenant))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(typeof options.ttl === 'number' ? Math.floor(Date.now() / 1000) + options.ttl : options.ttl)
    .sign(key.privateKey);
}
