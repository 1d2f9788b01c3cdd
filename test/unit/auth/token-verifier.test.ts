import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, TokenRejected } from '../../../src/auth/token-verifier.js';

// A JWKS endpoint of our own on loopback, standing in for an identity provider.
let jwks: { keys: JWK[] } = { keys: [] };
let jwksServer: Server;
let jwksUrl: string;
let fetches = 0;

beforeAll(async () => {
  jwksServer = createServer((_request, response) => {
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

async function rsaKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const sign = (key: { kid: string; privateKey: CryptoKey }, claims: Record<string, unknown> = { org: 'acme' }) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setSubject('8c1f0f3e-54b5-4bd8-9b2e-0a1f5c1e9d11')
    .setIssuer('https://idp.example')
    .setAudience('tenantgraph')
    .setExpirationTime('5m')
    .sign(key.privateKey);

describe('verification against a JWKS URL', () => {
  const options = () => ({ jwksUrl, issuer: 'https://idp.example', audience: 'tenantgraph', clockToleranceSeconds: 5 });

  it('accepts a token signed by a published key, fetching the key set once', async () => {
    const key = await rsaKey('k1');
    jwks = { keys: [key.jwk] };
    const verifier = createTokenVerifier(options());
    fetches = 0;
    for (let i = 0; i < 3; i++) expect((await verifier.verify(await sign(key))).org).toBe('acme');
    expect(fetches).toBe(1);
  });

  it('follows a key rotation: a new kid makes it fetch the set again once the cooldown has passed', async () => {
    const oldKey = await rsaKey('old');
    const newKey = await rsaKey('new');
    jwks = { keys: [oldKey.jwk] };
    const verifier = createTokenVerifier({ ...options(), jwksCooldownMs: 0 });
    await verifier.verify(await sign(oldKey));
    jwks = { keys: [oldKey.jwk, newKey.jwk] };
    expect((await verifier.verify(await sign(newKey))).sub).toBe('8c1f0f3e-54b5-4bd8-9b2e-0a1f5c1e9d11');
  });

  it('refuses unknown keys, HMAC tokens and a development-key token', async () => {
    const published = await rsaKey('pub');
    const stranger = await rsaKey('pub');
    jwks = { keys: [published.jwk] };
    const verifier = createTokenVerifier(options());
    await expect(verifier.verify(await sign(stranger))).rejects.toBeInstanceOf(TokenRejected);
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'pub' })
      .setSubject('x')
      .setIssuer('https://idp.example')
      .setAudience('tenantgraph')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(published.jwk)));
    await expect(verifier.verify(hmac)).rejects.toBeInstanceOf(TokenRejected);
  });

  it('needs either a JWKS URL or the development key', () => {
    expect(() => createTokenVerifier({ issuer: 'i', audience: 'a', clockToleranceSeconds: 0 })).toThrow(
      /JWKS URL or the development key/,
    );
  });
});
