import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { DevSigningKey } from './dev-signing-key.js';
import { cacheVerifiedTokens } from './verified-token-cache.js';

export interface TokenVerifierOptions {
  /** A remote key set (rotation handled by jose's cache); wins over `devKey`. */
  jwksUrl?: string;
  devKey?: DevSigningKey;
  issuer: string;
  audience: string;
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
}

/** Why a token was refused: for the log only; the client always hears "unauthenticated". */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

// Asymmetric algorithms only: no `none`, and no HMAC, so a public key can never be used as an
// HMAC secret (the classic RS256→HS256 confusion).
const REMOTE_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['sub', 'exp'],
  };
  if (options.jwksUrl) {
    const keySet = createRemoteJWKSet(new URL(options.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
    });
    return cacheVerifiedTokens(
      { verify: (token) => verifyWith(() => jwtVerify(token, keySet, { ...verifyOptions, algorithms: REMOTE_ALGORITHMS })) },
      options,
    );
  }
  const devKey = options.devKey;
  if (!devKey) throw new Error('a token verifier needs a JWKS URL or the development key');
  return cacheVerifiedTokens(
    { verify: (token) => verifyWith(() => jwtVerify(token, devKey.publicKey, { ...verifyOptions, algorithms: [devKey.alg] })) },
    options,
  );
}

async function verifyWith(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
  try {
    return (await verify()).payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenRejected(`${error.code}: ${error.message}`);
    throw new TokenRejected(error instanceof Error ? error.message : 'invalid token');
  }
}
