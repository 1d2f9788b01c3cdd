import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { runServerUntilExit, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PRODUCTION = { NODE_ENV: 'production', ALLOW_DEV_SIGNING_KEY: 'true' };

describe('production mode (NODE_ENV=production)', () => {
  it('refuses to start without an issuer: one line naming JWT_JWKS_URL, no stack, a non-zero exit', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tg-prod-'));
    try {
      const { code, stderr } = await runServerUntilExit({ DATA_DIR: dataDir, ALLOW_DEV_SIGNING_KEY: '' });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')[0]).toMatch(/^tenantgraph: invalid configuration:$/);
      expect(stderr).toMatch(/JWT_JWKS_URL: required when NODE_ENV=production/);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  describe('as started', () => {
    let server: ServerProcess;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'tg-prod-'));
      server = await startServerProcess({ DATA_DIR: dataDir });
    });
    afterAll(async () => {
      await server?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('says at start-up which of its safeguards are on, and seeds nothing', () => {
      const settings = server.logs.find((line) => line.msg === 'start-up settings');
      expect(settings).toMatchObject({
        mode: 'production',
        issuers: [{ iss: 'tenantgraph-dev', signer: 'development key', audience: 'tenantgraph' }],
        seedDemo: false,
        graphiql: false,
        introspection: false,
        corsOrigins: [],
      });
      expect(server.logs.some((line) => String(line.msg).includes('seeded'))).toBe(false);
    });
  });

  describe('over HTTP', () => {
    let production: TestServer;
    let asked: TestServer;
    let fixture: TenantFixture;
    let token: string;
    beforeAll(async () => {
      production = await startTestServer({ environment: { ...PRODUCTION, CORS_ORIGINS: 'https://app.example' } });
      asked = await startTestServer({ environment: { ...PRODUCTION, GRAPHIQL: 'true', INTROSPECTION: 'true' } });
      fixture = await createTenantFixture(production.database, { projects: 1, tasksPerProject: 1 });
      token = await production.token(fixture.owner.id, fixture.slug);
    });
    afterAll(async () => {
      await production?.close();
      await asked?.close();
    });

    const graphiqlPage = (url: string) => fetch(url, { headers: { accept: 'text/html' } });

    it('serves no GraphiQL page unless GRAPHIQL=true', async () => {
      const refused = await graphiqlPage(production.url);
      expect(refused.headers.get('content-type') ?? '').not.toContain('text/html');
      expect(await refused.text()).not.toContain('graphiql');
      const served = await graphiqlPage(asked.url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toContain('text/html');
    });

    it("serves GraphiQL's code as same-origin files (only with GRAPHIQL=true), under a policy of no inline code", async () => {
      const page = await graphiqlPage(asked.url);
      const policy = page.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self';");
      expect(policy).toContain("style-src 'self';");
      expect(policy).not.toContain('unsafe');
      const html = await page.text();
      expect(html).not.toMatch(/<script>|<script(?![^>]*(src=|type="application\/json"))[^>]*>|<style/);
      expect(html).toContain('<script src="/graphql/assets/graphiql.js"></script>');

      const asset = (server: TestServer, name: string, init?: RequestInit) =>
        fetch(new URL(`/graphql/assets/${name}`, server.url), init);
      for (const name of ['init.js', 'graphiql.js', 'graphiql.css', 'graphql.worker.js', 'favicon.ico']) {
        const file = await asset(asked, name);
        expect(file.status, name).toBe(200);
        expect((await file.arrayBuffer()).byteLength, name).toBeGreaterThan(0);
      }
      expect((await asset(asked, 'graphiql.css').then((file) => file.text())).includes('data:')).toBe(false);
      expect((await asset(asked, 'nope.js')).status).toBe(404);
      // Static files only: no GraphQL is served there, with or without a token.
      const post = await asset(asked, 'graphiql.js', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(post.status).toBe(405);
      expect((await asset(production, 'graphiql.js')).status).toBe(404);
    });

    it('refuses __schema and __type with a clear error unless INTROSPECTION=true, and still answers queries', async () => {
      const schema = await production.request(getIntrospectionQuery(), { token });
      expect(schema.body.data ?? undefined).toBeUndefined();
      expect(schema.body.errors?.[0]?.message).toMatch(/introspection has been disabled.*"__schema"/);
      const type = await production.request('{ __type(name: "Project") { name } }', { token });
      expect(type.body.errors?.[0]?.message).toMatch(/introspection has been disabled.*"__type"/);

      const query = await production.request<{ viewer: { tenant: { slug: string } } }>(
        '{ __typename viewer { tenant { slug } } }',
        { token },
      );
      expect(query.body.errors).toBeUndefined();
      expect(query.body.data?.viewer.tenant.slug).toBe(fixture.slug);

      const allowedFixture = await createTenantFixture(asked.database, { projects: 1, tasksPerProject: 1 });
      const allowed = await asked.request<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery(), {
        token: await asked.token(allowedFixture.owner.id, allowedFixture.slug),
      });
      expect(allowed.body.data?.__schema.queryType.name).toBe('Query');
    });

    const preflight = (url: string, origin: string) =>
      fetch(url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });

    it('answers CORS only for the origins of CORS_ORIGINS', async () => {
      const listed = await preflight(production.url, 'https://app.example');
      expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await preflight(production.url, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const response = await fetch(production.url, {
        method: 'POST',
        headers: { origin: 'https://app.example', 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id');
    });

    it('allows no cross-origin access at all without CORS_ORIGINS', async () => {
      const response = await preflight(asked.url, 'https://app.example');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});
