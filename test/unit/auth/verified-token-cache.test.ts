import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenRejected, type TokenVerifier } from '../../../src/auth/token-verifier.js';
import { cacheVerifiedTokens } from '../../../src/auth/verified-token-cache.js';

/** A verifier that accepts tokens named `good…` with the given claims, and counts its calls. */
function countingVerifier(claims: JWTPayload) {
  const calls: string[] = [];
  const verifier: TokenVerifier = {
    async verify(token) {
      calls.push(token);
      if (!token.startsWith('good')) throw new TokenRejected('bad signature');
      return claims;
    },
    issuer: () => undefined,
  };
  return { verifier, calls };
}

describe('cacheVerifiedTokens', () => {
  const start = 1_800_000_000_000;

  it('checks a signature once, then reuses the verified claims for the same token only', async () => {
    const { verifier, calls } = countingVerifier({ sub: 'u', exp: start / 1000 + 3600 });
    const cached = cacheVerifiedTokens(verifier, { clockToleranceSeconds: 0, now: () => start });
    await cached.verify('good-1');
    await cached.verify('good-1');
    await cached.verify('good-2');
    expect(calls).toEqual(['good-1', 'good-2']);
  });

  it('still refuses a cached token once it has expired', async () => {
    let now = start;
    const { verifier } = countingVerifier({ sub: 'u', exp: start / 1000 + 10 });
    const cached = cacheVerifiedTokens(verifier, { clockToleranceSeconds: 2, now: () => now });
    await cached.verify('good');
    now = start + 11_000;
    await expect(cached.verify('good')).resolves.toMatchObject({ sub: 'u' }); // within the tolerance
    now = start + 12_001;
    await expect(cached.verify('good')).rejects.toBeInstanceOf(TokenRejected);
  });

  it('verifies again after maxAgeMs, and never caches a failure', async () => {
    let now = start;
    const { verifier, calls } = countingVerifier({ sub: 'u', exp: start / 1000 + 3600 });
    const cached = cacheVerifiedTokens(verifier, { clockToleranceSeconds: 0, maxAgeMs: 1_000, now: () => now });
    await cached.verify('good');
    now += 1_001;
    await cached.verify('good');
    await expect(cached.verify('forged')).rejects.toBeInstanceOf(TokenRejected);
    await expect(cached.verify('forged')).rejects.toBeInstanceOf(TokenRejected);
    expect(calls).toEqual(['good', 'good', 'forged', 'forged']);
  });

  it('holds at most maxEntries tokens, forgetting the oldest', async () => {
    const { verifier, calls } = countingVerifier({ sub: 'u', exp: start / 1000 + 3600 });
    const cached = cacheVerifiedTokens(verifier, { clockToleranceSeconds: 0, maxEntries: 2, now: () => start });
    for (const token of ['good-a', 'good-b', 'good-c', 'good-a']) await cached.verify(token);
    expect(calls).toEqual(['good-a', 'good-b', 'good-c', 'good-a']);
  });
});
