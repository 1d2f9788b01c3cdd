import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, addUser } from '../../src/admin/tenant-admin.js';
import { listenForRegistryChanges, listenInProcess, notifyRegistryPayload } from '../../src/db/registry-notifications.js';
import { createLogger } from '../../src/observability/logger.js';
import { counterValue } from '../../src/observability/metrics.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { type MockIdentityProvider, startMockIdentityProvider } from '../helpers/mock-identity-provider.js';
import { connectRaw } from '../helpers/raw-protocol-client.js';
import { waitFor } from '../helpers/subscriber.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// The setup of docs/identity-providers.md, mimicked: an Auth0 tenant (non-UUID subjects, the tenant
// in a namespaced claim, its own API audience, the email added by an Action) and a Clerk instance
// (its organization in the nested `o` claim), trusted at once, each with its own JWKS over HTTP.

const AUTH0_AUDIENCE = 'https://api.tenantgraph.test';
const TENANT_CLAIM = 'https://tenantgraph.example/tenant';
const EMAIL_CLAIM = 'https://tenantgraph.example/email';
const VERIFIED_CLAIM = 'https://tenantgraph.example/email_verified';
const ADA = 'auth0|65f1c0ffee0123456789abcd';

let database: TestDatabase;
let auth0: MockIdentityProvider;
let clerk: MockIdentityProvider;
let stranger: MockIdentityProvider;
let server: TestServer;
let jitServer: TestServer;
let acme: TenantFixture;
let globex: TenantFixture;
const stops: (() => Promise<void>)[] = [];

/** The registry hears every change the database announces, as the real server does. */
async function listen(target: TestServer) {
  const { registry } = target.app;
  stops.push(
    database.listen
      ? await listenInProcess(database.listen, registry)
      : await listenForRegistryChanges(database.url ?? '', registry, {
          logger: createLogger('silent'),
          announce: (payload) => notifyRegistryPayload(database.sql, payload),
        }),
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  auth0 = await startMockIdentityProvider('https://tenantgraph-test.eu.auth0.com/');
  clerk = await startMockIdentityProvider('https://clerk.tenantgraph.test');
  stranger = await startMockIdentityProvider('https://stranger.test/');
  await auth0.addKey('k1');
  await clerk.addKey('c1');
  await stranger.addKey('s1');
  const issuers = JSON.stringify([
    { issuer: auth0.issuer, jwksUrl: auth0.jwksUrl, audience: AUTH0_AUDIENCE, tenantClaim: TENANT_CLAIM },
    { issuer: clerk.issuer, jwksUrl: clerk.jwksUrl, tenantClaim: '/o/slg' },
  ]);
  // A long TTL: whatever stops working below stops because the registry was told, not because it forgot.
  const common = { database, registryTtlMs: 60_000, jwksCooldownMs: 0 };
  server = await startTestServer({ ...common, environment: { JWT_ISSUERS: issuers } });
  jitServer = await startTestServer({
    ...common,
    environment: {
      JWT_ISSUERS: issuers,
      JIT_USERS: 'true',
      JIT_EMAIL_CLAIM: EMAIL_CLAIM,
      JIT_EMAIL_VERIFIED_CLAIM: VERIFIED_CLAIM,
    },
  });
  await listen(server);
  await listen(jitServer);
  acme = await createTenantFixture(database, { slug: 'acme-idp', projects: 1, tasksPerProject: 1 });
  globex = await createTenantFixture(database, { slug: 'globex-idp', projects: 1, tasksPerProject: 1 });
  await addUser(database.prisma, { email: 'ada@idp.test', name: 'Ada', identity: { issuer: auth0.issuer, subject: ADA } });
  await addMember(database.prisma, 'ada@idp.test', acme.slug, 'MEMBER');
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await server?.close();
  await jitServer?.close();
  await Promise.all([auth0?.close(), clerk?.close(), stranger?.close()]);
  await database?.destroy();
});

const VIEWER = '{ viewer { role user { email } tenant { slug } } }';
const unauthenticated = { errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }] };
const forbidden = { errors: [{ message: 'Access denied', extensions: { code: 'FORBIDDEN' } }] };

const auth0Token = (subject: string, claims: Record<string, unknown> = { [TENANT_CLAIM]: 'acme-idp' }, kid = 'k1') =>
  auth0.sign(subject, claims, { kid, audience: AUTH0_AUDIENCE });
const clerkToken = (subject: string, slug: string, claims: Record<string, unknown> = {}) =>
  clerk.sign(subject, { o: { id: 'org_2aXkq7', slg: slug, rol: 'admin' }, ...claims }, { kid: 'c1', audience: 'tenantgraph' });

async function viewer(token: string, target = server) {
  const response = await target.request<{ viewer: { role: string; user: { email: string }; tenant: { slug: string } } }>(VIEWER, {
    token,
  });
  return { status: response.status, body: response.body };
}

describe('a mimicked Auth0 tenant', () => {
  it('resolves a non-UUID subject to its user, the tenant from a namespaced claim, the role from the membership', async () => {
    const answer = await viewer(
      await auth0Token(ADA, { [TENANT_CLAIM]: 'acme-idp', 'https://tenantgraph.example/role': 'OWNER' }),
    );
    expect(answer).toEqual({
      status: 200,
      body: { data: { viewer: { role: 'MEMBER', user: { email: 'ada@idp.test' }, tenant: { slug: 'acme-idp' } } } },
    });
  });

  it('refuses its token without the namespaced claim, for another tenant, or for another audience', async () => {
    expect(await viewer(await auth0Token(ADA, { tid: 'acme-idp' }))).toEqual({ status: 401, body: unauthenticated });
    expect(await viewer(await auth0Token(ADA, { [TENANT_CLAIM]: globex.slug }))).toEqual({ status: 403, body: forbidden });
    const otherAudience = await auth0.sign(ADA, { [TENANT_CLAIM]: 'acme-idp' }, { kid: 'k1', audience: 'tenantgraph' });
    expect(await viewer(otherAudience)).toEqual({ status: 401, body: unauthenticated });
  });

  it('follows a key rotation: a new kid is fetched, the old one works until withdrawn, an unknown key never', async () => {
    await auth0.addKey('k2');
    expect((await viewer(await auth0Token(ADA, undefined, 'k2'))).status).toBe(200);
    expect((await viewer(await auth0Token(ADA, undefined, 'k1'))).status).toBe(200);

    auth0.removeKey('k1');
    await auth0.addKey('rogue', { publish: false });
    const fetches = auth0.fetches();
    // An unknown kid is refused, and makes the server fetch the set again (the cooldown is 0 here)…
    expect(await viewer(await auth0Token(ADA, undefined, 'rogue'))).toEqual({ status: 401, body: unauthenticated });
    expect(auth0.fetches()).toBe(fetches + 1);
    // …which no longer has k1: its new tokens are refused, k2's still work.
    expect(await viewer(await auth0Token(ADA, undefined, 'k1'))).toEqual({ status: 401, body: unauthenticated });
    expect((await viewer(await auth0Token(ADA, undefined, 'k2'))).status).toBe(200);
    await auth0.addKey('k1');
  });
});

describe('two issuers trusted at once', () => {
  it('lets the same user in through either, each issuer with its own claim layout and audience', async () => {
    await addUser(database.prisma, { email: 'ada@idp.test', identity: { issuer: clerk.issuer, subject: 'user_2bQk9fXcM1' } });
    expect(await viewer(await clerkToken('user_2bQk9fXcM1', 'acme-idp'))).toMatchObject({
      status: 200,
      body: { data: { viewer: { role: 'MEMBER', user: { email: 'ada@idp.test' } } } },
    });
    expect((await viewer(await auth0Token(ADA))).status).toBe(200);
  });

  it('keeps issuers apart: a subject of one is nobody at the other, and no key vouches for another issuer', async () => {
    // Ada's Auth0 subject, in a genuine Clerk token: another identity, no user.
    expect(await viewer(await clerkToken(ADA, 'acme-idp'))).toEqual({ status: 403, body: forbidden });
    // Signed by Clerk's key, claiming to be Auth0: Auth0's key set does not have that key.
    const forged = await clerk.sign(
      ADA,
      { iss: auth0.issuer, [TENANT_CLAIM]: 'acme-idp' },
      { kid: 'c1', audience: AUTH0_AUDIENCE },
    );
    expect(await viewer(forged)).toEqual({ status: 401, body: unauthenticated });
  });

  it('refuses an issuer it does not trust with the same 401 as any bad token, even for a registered subject', async () => {
    await addUser(database.prisma, { email: 'ada@idp.test', identity: { issuer: stranger.issuer, subject: ADA } });
    const token = await stranger.sign(
      ADA,
      { [TENANT_CLAIM]: 'acme-idp', tid: 'acme-idp' },
      { kid: 's1', audience: AUTH0_AUDIENCE },
    );
    expect(await viewer(token)).toEqual({ status: 401, body: unauthenticated });
  });
});

describe('identities in the registry', () => {
  it('compares a UUID subject in any case as one identity, with one cache entry', async () => {
    const subject = 'D3B07384-D113-4EC6-A1D5-6A4B2A6E3F10';
    await addUser(database.prisma, { email: 'uuid@idp.test', identity: { issuer: clerk.issuer, subject } });
    await addMember(database.prisma, 'uuid@idp.test', acme.slug, 'VIEWER');
    // The notifications of addUser/addMember may land after the first lookup and make it stale: warm
    // the cache until an upper-case request reads no table, then the lower-case one must not either.
    const upper = await clerkToken(subject, 'acme-idp');
    await expect
      .poll(async () => {
        const before = counterValue('registry_query');
        expect((await viewer(upper)).status).toBe(200);
        return counterValue('registry_query') - before;
      })
      .toBe(0);
    const lookups = counterValue('registry_query');
    expect((await viewer(await clerkToken(subject.toLowerCase(), 'acme-idp'))).status).toBe(200);
    expect(counterValue('registry_query')).toBe(lookups);
  });

  it('ends access at once when the identity is removed, though the answer was cached', async () => {
    await addUser(database.prisma, { email: 'brief@idp.test', identity: { issuer: auth0.issuer, subject: 'auth0|brief' } });
    await addMember(database.prisma, 'brief@idp.test', acme.slug, 'MEMBER');
    const token = await auth0Token('auth0|brief');
    await expect.poll(async () => (await viewer(token)).status).toBe(200);
    await database.prisma.userIdentity.delete({ where: { issuer_subject: { issuer: auth0.issuer, subject: 'auth0|brief' } } });
    await expect.poll(async () => (await viewer(token)).status, { timeout: 2_000 }).toBe(403);
  });

  it('closes a subscription resolved through an identity once that identity is removed (4403)', async () => {
    await addUser(database.prisma, { email: 'listener@idp.test', identity: { issuer: clerk.issuer, subject: 'user_listener' } });
    await addMember(database.prisma, 'listener@idp.test', acme.slug, 'VIEWER');
    await expect.poll(async () => (await viewer(await clerkToken('user_listener', 'acme-idp'))).status).toBe(200);
    const client = await connectRaw(server.url, await clerkToken('user_listener', 'acme-idp'));
    try {
      client.subscribe('p', 'subscription { projectChanged { kind projectId } }');
      // Running: an event reaches it (so its own resolution is behind it).
      const event = { type: 'project', tenantId: acme.id, projectId: acme.projectIds[0] ?? '', kind: 'UPDATED' } as const;
      await waitFor(
        () => {
          server.app.pubsub.publish(event);
          return client.messagesFor('p').some((message) => message.type === 'next');
        },
        5_000,
        'the subscription to run',
      );
      await database.prisma.userIdentity.delete({
        where: { issuer_subject: { issuer: clerk.issuer, subject: 'user_listener' } },
      });
      // The idle re-check (SUBSCRIPTION_RECHECK_MS, 2 s) asks the registry, which the deletion reached.
      expect(await client.closed(6_000)).toBe(4403);
    } finally {
      await client.close();
    }
  });
});

describe('just-in-time users', () => {
  const newcomer = (subject: string, email: string, more: Record<string, unknown> = {}) =>
    auth0Token(subject, { [TENANT_CLAIM]: 'acme-idp', [EMAIL_CLAIM]: email, [VERIFIED_CLAIM]: true, name: 'Newcomer', ...more });

  it('off (the default): an unknown identity is refused and nothing is created', async () => {
    expect(await viewer(await newcomer('auth0|new-off', 'off@idp.test'))).toEqual({ status: 403, body: forbidden });
    expect(await database.prisma.user.findUnique({ where: { email: 'off@idp.test' } })).toBeNull();
  });

  it('on: the first token creates the user, who gets in only once an administrator makes them a member', async () => {
    const token = await newcomer('auth0|new-on', 'on@idp.test', { 'https://tenantgraph.example/role': 'OWNER' });
    expect(await viewer(token, jitServer)).toEqual({ status: 403, body: forbidden });
    const created = await database.prisma.user.findUnique({ where: { email: 'on@idp.test' }, include: { identities: true } });
    expect(created).toMatchObject({ name: 'Newcomer', identities: [{ issuer: auth0.issuer, subject: 'auth0|new-on' }] });
    expect(await viewer(token, jitServer)).toEqual({ status: 403, body: forbidden });

    await addMember(database.prisma, 'on@idp.test', acme.slug, 'VIEWER');
    await expect.poll(async () => (await viewer(token, jitServer)).status, { timeout: 2_000 }).toBe(200);
    expect((await viewer(token, jitServer)).body).toMatchObject({ data: { viewer: { role: 'VIEWER' } } });
  });

  it('never links a token to an existing user by email, nor uses an email the token does not say is verified', async () => {
    expect(await viewer(await newcomer('auth0|intruder', 'ada@idp.test'), jitServer)).toEqual({ status: 403, body: forbidden });
    const unverified = await newcomer('auth0|unverified', 'unverified@idp.test', { [VERIFIED_CLAIM]: false });
    expect(await viewer(unverified, jitServer)).toEqual({ status: 403, body: forbidden });
    // Absent is not verified: an administrator granting access to this address must reach its owner.
    const unsaid = await auth0Token('auth0|unsaid', {
      [TENANT_CLAIM]: 'acme-idp',
      [EMAIL_CLAIM]: 'unsaid@idp.test',
      name: 'Newcomer',
    });
    expect(await viewer(unsaid, jitServer)).toEqual({ status: 403, body: forbidden });
    const identities = await database.prisma.userIdentity.findMany({
      where: { subject: { in: ['auth0|intruder', 'auth0|unverified', 'auth0|unsaid'] } },
    });
    expect(identities).toEqual([]);
    expect(await database.prisma.user.findUnique({ where: { email: 'unverified@idp.test' } })).toBeNull();
    expect(await database.prisma.user.findUnique({ where: { email: 'unsaid@idp.test' } })).toBeNull();
  });
});
