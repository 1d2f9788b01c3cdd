import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import type { DevSigningKey } from './dev-signing-key.js';
import { type IssuerSettings, type ResolvedIssuer, trustedIssuers } from './trusted-issuers.js';
import { cacheVerifiedTokens } from './verified-token-cache.js';

export interface TokenVerifierOptions extends IssuerSettings {
  /** The development key: what an issuer without a JWKS URL (the simple form, no provider) verifies with. */
  devKey?: DevSigningKey;
  clockToleranceSeconds: number;
  /**
   * After a fetch, how long an unknown `kid` waits before the key set is fetched again (rotation
   * reaches us at most this late; shorter would let bad tokens hammer the identity provider).
   */
  jwksCooldownMs?: number;
}

export interface TokenVerifier {
  /** The verified claims, or a TokenRejected error. */
  verify(token: string): Promise<JWTPayload>;
  /** The trusted issuer a verified token's `iss` names (its tenant claim, whether it is the development signer). */
  issuer(iss: string): ResolvedIssuer | undefined;
}

/** Why a token was refused: for the log only; the client always hears "unauthenticated". */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

// Asymmetric algorithms only: no `none`, and no HMAC, so a public key can never be used as an
// HMAC secret (the classic RS256→HS256 confusion).
const REMOTE_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/**
 * Verifies tokens of every trusted issuer, each against its own key set. The token's `iss`, read
 * before verification, only picks the key set; verification then requires that same `iss` (and the
 * issuer's `aud`), so a key of one issuer can never vouch for a token naming another.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const byIssuer = new Map<string, { trusted: ResolvedIssuer; verify: (token: string) => Promise<JWTPayload> }>();
  for (const trusted of trustedIssuers(options)) {
    const verifyOptions = {
      issuer: trusted.issuer,
      audience: trusted.audience,
      clockTolerance: options.clockToleranceSeconds,
      requiredClaims: ['sub', 'exp'],
    };
    if (trusted.jwksUrl) {
      const keySet = createRemoteJWKSet(new URL(trusted.jwksUrl), {
        cacheMaxAge: 10 * 60_000,
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
      });
      byIssuer.set(trusted.issuer, {
        trusted,
        verify: (token) => verifyWith(() => jwtVerify(token, keySet, { ...verifyOptions, algorithms: REMOTE_ALGORITHMS })),
      });
      continue;
    }
    const devKey = options.devKey;
    if (!devKey) throw new Error('a token verifier needs a JWKS URL or the development key');
    byIssuer.set(trusted.issuer, {
      trusted,
      verify: (token) => verifyWith(() => jwtVerify(token, devKey.publicKey, { ...verifyOptions, algorithms: [devKey.alg] })),
    });
  }
  const verifier = cacheVerifiedTokens(
    {
      async verify(token) {
        const entry = byIssuer.get(unverifiedIssuer(token));
        if (!entry) throw new TokenRejected('ERR_JWT_CLAIM_VALIDATION_FAILED: untrusted issuer');
        return entry.verify(token);
      },
      issuer: (iss) => byIssuer.get(iss)?.trusted,
    },
    options,
  );
  return verifier;
}

function unverifiedIssuer(token: string): string {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : '';
  } catch {
    throw new TokenRejected('ERR_JWT_INVALID: not a JWT');
  }
}

async function verifyWith(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
  try {
    return (await verify()).payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenRejected(`${error.code}: ${error.message}`);
    throw new TokenRejected(error instanceof Error ? error.message : 'invalid token');
  }
}
