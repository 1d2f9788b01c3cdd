import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/**
 * An identity provider as the server sees one: a JWKS served over real HTTP on a loopback port,
 * and tokens signed with its keys. Keys are published, rotated and withdrawn the way Auth0 or Clerk
 * do it: a new `kid` appears in the set, the old one stays until removed.
 */
export interface MockIdentityProvider {
  /** The `iss` of its tokens (a URL, as providers use; it need not be reachable). */
  issuer: string;
  jwksUrl: string;
  /** Times its JWKS was fetched. */
  fetches(): number;
  /** Creates a key; published in the JWKS unless `publish` is false (a key nobody trusts). */
  addKey(kid: string, options?: { publish?: boolean }): Promise<void>;
  /** Withdraws a key from the JWKS (tokens signed with it keep their signature, not their trust). */
  removeKey(kid: string): void;
  /** A token for `subject`, signed with `kid`, with the provider's issuer unless `claims.iss` says otherwise. */
  sign(
    subject: string,
    claims: Record<string, unknown>,
    options: { kid: string; audience: string; ttlSeconds?: number },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startMockIdentityProvider(issuer: string): Promise<MockIdentityProvider> {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK; published: boolean }>();
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches++;
    const published = [...keys.values()].filter((key) => key.published).map((key) => key.jwk);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    async addKey(kid, options = {}) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      keys.set(kid, {
        privateKey,
        jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
        published: options.publish ?? true,
      });
    },
    removeKey(kid) {
      const key = keys.get(kid);
      if (key) key.published = false;
    },
    sign(subject, claims, options) {
      const key = keys.get(options.kid);
      if (!key) throw new Error(`no key ${options.kid}`);
      const now = Math.floor(Date.now() / 1000);
      // A jti of its own: RS256 signatures are deterministic, and two tokens alike would be one to a cache.
      return new SignJWT({ iss: issuer, jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: options.kid, typ: 'JWT' })
        .setSubject(subject)
        .setAudience(options.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.ttlSeconds ?? 600))
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
