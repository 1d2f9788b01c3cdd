import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeMember, setTenantStatus } from '../../src/admin/tenant-admin.js';
import { createDevSigningKey } from '../../src/auth/dev-signing-key.js';
import { counterValue } from '../../src/observability/metrics.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let server: TestServer;
let a: TenantFixture;
let b: TenantFixture;
let outsider: TenantFixture;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'auth-a', projects: 1, tasksPerProject: 1 });
  b = await createTenantFixture(server.database, { slug: 'auth-b', projects: 1, tasksPerProject: 1 });
  outsider = await createTenantFixture(server.database, { slug: 'auth-suspended', projects: 1, tasksPerProject: 1 });
  await setTenantStatus(server.database.prisma, outsider.slug, 'SUSPENDED');
});
afterAll(() => server?.close());

const VIEWER = '{ viewer { role tenant { slug } } }';
const unauthenticated = { errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }] };
const forbidden = { errors: [{ message: 'Access denied', extensions: { code: 'FORBIDDEN' } }] };

function sign(
  claims: Record<string, unknown>,
  options: { issuer?: string; audience?: string; exp?: number; nbf?: number; key?: CryptoKey } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: server.devKey.kid })
    .setIssuer(options.issuer ?? server.config.jwt.issuer)
    .setAudience(options.audience ?? server.config.jwt.audience)
    .setIssuedAt()
    .setNotBefore(options.nbf ?? now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(options.key ?? server.devKey.privateKey);
}

async function expectRejected(token: string | undefined, status: 401 | 403, headers: Record<string, string> = {}) {
  const response = await server.request(VIEWER, { token, headers });
  expect(response.status).toBe(status);
  expect(response.body).toEqual(status === 401 ? unauthenticated : forbidden);
}

describe('a valid token', () => {
  it('resolves to its tenant with the role from the membership, not the token', async () => {
    const token = await sign({ sub: a.viewer.id, tid: a.slug, role: 'OWNER' });
    const { status, body } = await server.request(VIEWER, { token });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { viewer: { role: 'VIEWER', tenant: { slug: a.slug } } } });
  });

  it('accepts the tenant by id as well as by slug, and a matching X-Tenant-ID', async () => {
    const token = await server.token(a.owner.id, a.id);
    const { body } = await server.request(VIEWER, { token, headers: { 'x-tenant-id': a.slug } });
    expect(body.data).toEqual({ viewer: { role: 'OWNER', tenant: { slug: a.slug } } });
  });

  it('returns the caller’s X-Request-ID, or a generated one', async () => {
    const token = await server.token(a.owner.id, a.slug);
    const given = await server.request(VIEWER, { token, headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const generated = await server.request(VIEWER, { token });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const rejected = await server.request(VIEWER, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(rejected.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a sub and a tenant id spelled in upper case as the same user and tenant', async () => {
    const token = await sign({ sub: a.member.id.toUpperCase(), tid: a.id.toUpperCase() });
    const { status, body } = await server.request(VIEWER, { token });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { viewer: { role: 'MEMBER', tenant: { slug: a.slug } } } });
  });

  it('costs no registry query once the registry is warm', async () => {
    const token = await server.token(a.owner.id, a.slug);
    await server.request(VIEWER, { token });
    const before = counterValue('registry_query');
    for (let i = 0; i < 5; i++) expect((await server.request(VIEWER, { token })).status).toBe(200);
    expect(counterValue('registry_query')).toBe(before);
  });
});

describe('401: no usable token', () => {
  it('no token, a malformed header, or a token in the URL query string', async () => {
    await expectRejected(undefined, 401);
    await expectRejected(undefined, 401, { authorization: 'Basic dXNlcjpwYXNz' });
    const token = await server.token(a.owner.id, a.slug);
    const viaUrl = await fetch(`${server.url}?access_token=${token}&token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(viaUrl.status).toBe(401);
  });

  it('expired, not yet valid, wrong issuer, wrong audience', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: a.owner.id, tid: a.slug };
    await expectRejected(await sign(claims, { exp: now - 60 }), 401);
    await expectRejected(await sign(claims, { nbf: now + 60 }), 401);
    await expectRejected(await sign(claims, { issuer: 'someone-else' }), 401);
    await expectRejected(await sign(claims, { audience: 'another-api' }), 401);
  });

  it('alg none, another key, an HMAC token keyed with the public key, a tampered payload', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(
      JSON.stringify({
        sub: a.owner.id,
        tid: a.slug,
        iss: server.config.jwt.issuer,
        aud: server.config.jwt.audience,
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    );
    await expectRejected(`${header}.${payload}.`, 401);

    const stranger = await createDevSigningKey();
    await expectRejected(await sign({ sub: a.owner.id, tid: a.slug }, { key: stranger.privateKey }), 401);

    const publicJwk = JSON.stringify(await crypto.subtle.exportKey('jwk', server.devKey.publicKey));
    const hmac = await new SignJWT({ sub: a.owner.id, tid: a.slug })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(server.config.jwt.issuer)
      .setAudience(server.config.jwt.audience)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicJwk));
    await expectRejected(hmac, 401);

    const genuine = await sign({ sub: a.owner.id, tid: a.slug });
    const [h, , s] = genuine.split('.');
    const forgedPayload = base64url.encode(
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(genuine.split('.')[1] ?? ''))), tid: b.slug }),
    );
    await expectRejected(`${h}.${forgedPayload}.${s}`, 401);
  });

  it('missing or malformed claims', async () => {
    await expectRejected(await sign({ tid: a.slug }), 401);
    await expectRejected(await sign({ sub: a.owner.id }), 401);
    await expectRejected(await sign({ sub: 42, tid: a.slug }), 401);
    await expectRejected(await sign({ sub: `${a.owner.id}\u0000`, tid: a.slug }), 401);
    await expectRejected(await sign({ sub: 'x'.repeat(256), tid: a.slug }), 401);
    await expectRejected(await sign({ sub: a.owner.id, tid: 42 }), 401);
    // A tenant claim the database could not even look up (a NUL byte) is as malformed as a number.
    await expectRejected(await sign({ sub: a.owner.id, tid: `${a.slug}\u0000` }), 401);
  });
});

describe('403: valid token, no access — one answer for every reason', () => {
  it('unknown tenant, suspended tenant, non-member, X-Tenant-ID mismatch', async () => {
    await expectRejected(await sign({ sub: a.owner.id, tid: 'no-such-tenant' }), 403);
    await expectRejected(await sign({ sub: a.owner.id, tid: '00000000-0000-4000-8000-000000000000' }), 403);
    await expectRejected(await sign({ sub: outsider.owner.id, tid: outsider.slug }), 403);
    // A subject is any string the provider chose: one that names no user is no access, like a non-member.
    await expectRejected(await sign({ sub: 'not-a-uuid', tid: a.slug }), 403);
    await expectRejected(await sign({ sub: a.owner.id, tid: b.slug }), 403);
    await expectRejected(await sign({ sub: a.owner.id, tid: a.slug }), 403, { 'x-tenant-id': b.slug });
    await expectRejected(await sign({ sub: a.owner.id, tid: a.slug }), 403, { 'x-tenant-id': b.id });
  });

  it('a removed member is refused on the next request once the registry is told, however the token spells their id', async () => {
    const tenant = await createTenantFixture(server.database, { projects: 0 });
    const upper = await sign({ sub: tenant.member.id.toUpperCase(), tid: tenant.slug });
    const lower = await sign({ sub: tenant.member.id, tid: tenant.slug });
    const upperTenant = await sign({ sub: tenant.member.id, tid: tenant.id.toUpperCase() });
    for (const token of [upper, lower, upperTenant]) expect((await server.request(VIEWER, { token })).status).toBe(200);
    // As the CLI does it: the admin change, then the registry told of that membership.
    await removeMember(server.database.prisma, tenant.member.email, tenant.slug);
    server.app.registry.invalidateMembership(tenant.id, tenant.member.id);
    for (const token of [upper, lower, upperTenant]) await expectRejected(token, 403);
  });

  it('a suspension takes effect on the next request once the registry is told', async () => {
    const tenant = await createTenantFixture(server.database, { projects: 0 });
    const token = await server.token(tenant.owner.id, tenant.slug);
    expect((await server.request(VIEWER, { token })).status).toBe(200);
    await setTenantStatus(server.database.prisma, tenant.slug, 'SUSPENDED');
    server.app.registry.invalidateTenant(tenant.id);
    await expectRejected(token, 403);
  });
});
