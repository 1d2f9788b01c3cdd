import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('configuration', () => {
  it('has working defaults: embedded database, demo seed, development issuer, tid claim', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      seedDemo: true,
      registryTtlMs: 5000,
      jwt: {
        jwksUrl: undefined,
        issuer: 'tenantgraph-dev',
        audience: 'tenantgraph',
        tenantClaim: 'tid',
        clockToleranceSeconds: 5,
      },
    });
    expect(config.dataDir.endsWith('.data')).toBe(true);
  });

  it('seeds nothing on a real database unless asked', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://x@h/db' }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://x@h/db', SEED_DEMO: 'true' }).seedDemo).toBe(true);
  });

  it('keeps statements prepared on a direct connection, not behind a pooler, unless told', () => {
    const direct = 'postgres://x@db/app';
    const pooler = 'postgres://x@pgbouncer:6432/app';
    expect(loadConfig({ DATABASE_URL: direct }).databasePreparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_URL: direct, DIRECT_DATABASE_URL: direct }).databasePreparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_URL: pooler, DIRECT_DATABASE_URL: direct }).databasePreparedStatements).toBe(false);
    expect(
      loadConfig({ DATABASE_URL: pooler, DIRECT_DATABASE_URL: direct, DATABASE_PREPARED_STATEMENTS: 'on' })
        .databasePreparedStatements,
    ).toBe(true);
    expect(loadConfig({ DATABASE_URL: direct, DATABASE_PREPARED_STATEMENTS: 'off' }).databasePreparedStatements).toBe(false);
    expect(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'yes' })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', JWT_JWKS_URL: 'ftp://x', LOG_LEVEL: 'loud' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', JWT_JWKS_URL: 'ftp://x', LOG_LEVEL: 'loud' });
    } catch (error) {
      for (const name of ['PORT', 'DATABASE_URL', 'JWT_JWKS_URL', 'LOG_LEVEL']) expect((error as Error).message).toContain(name);
    }
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', JWT_TENANT_CLAIM: '' })).toMatchObject({
      databaseUrl: undefined,
      jwt: { tenantClaim: 'tid' },
    });
  });

  it('trusts several issuers from JWT_ISSUERS, each with its JWKS and optionally its audience and tenant claim', () => {
    const issuers = [
      {
        issuer: 'https://a.auth0.test/',
        jwksUrl: 'https://a.auth0.test/.well-known/jwks.json',
        tenantClaim: 'https://x.test/tenant',
      },
      {
        issuer: 'https://clerk.b.test',
        jwksUrl: 'https://clerk.b.test/.well-known/jwks.json',
        audience: 'api',
        tenantClaim: '/o/slg',
      },
    ];
    expect(loadConfig({ JWT_ISSUERS: JSON.stringify(issuers) }).jwt.issuers).toEqual(issuers);
    expect(loadConfig({}).jwt.issuers).toBeUndefined();
  });

  it('refuses a JWT_ISSUERS it cannot read unambiguously', () => {
    const one = { issuer: 'https://a.test/', jwksUrl: 'https://a.test/jwks.json' };
    const bad = [
      'not json',
      '[]',
      JSON.stringify([{ issuer: 'https://a.test/' }]),
      JSON.stringify([{ ...one, jwksUrl: 'ftp://a.test/jwks.json' }]),
      JSON.stringify([one, one]),
      JSON.stringify([{ ...one, tenantClaim: '/o//x' }]),
      JSON.stringify([{ ...one, audiences: 'typo' }]),
    ];
    for (const value of bad) expect(() => loadConfig({ JWT_ISSUERS: value }), value).toThrow(/JWT_ISSUERS/);
    // The simple form beside the list would be silently ignored: refused instead.
    expect(() => loadConfig({ JWT_ISSUERS: JSON.stringify([one]), JWT_JWKS_URL: 'https://b.test/jwks.json' })).toThrow(
      /JWT_JWKS_URL: not with JWT_ISSUERS/,
    );
    expect(() => loadConfig({ JWT_ISSUERS: JSON.stringify([one]), JWT_ISSUER: 'https://b.test/' })).toThrow(
      /JWT_ISSUER: not with JWT_ISSUERS/,
    );
  });

  it('takes a tenant claim by name or JSON Pointer, and just-in-time users off unless asked', () => {
    expect(loadConfig({ JWT_TENANT_CLAIM: 'https://tenantgraph.example/tenant' }).jwt.tenantClaim).toBe(
      'https://tenantgraph.example/tenant',
    );
    expect(loadConfig({ JWT_TENANT_CLAIM: '/org/id' }).jwt.tenantClaim).toBe('/org/id');
    expect(() => loadConfig({ JWT_TENANT_CLAIM: '/org//id' })).toThrow(/JWT_TENANT_CLAIM/);
    expect(loadConfig({}).jwt).toMatchObject({ jitUsers: false, jitEmailClaim: 'email' });
    expect(loadConfig({ JIT_USERS: 'true', JIT_EMAIL_CLAIM: 'https://x.test/email' }).jwt).toMatchObject({
      jitUsers: true,
      jitEmailClaim: 'https://x.test/email',
    });
  });
  it('development keeps its conveniences: local key, GraphiQL, introspection, any origin, migrations at start', () => {
    expect(loadConfig({})).toMatchObject({
      production: false,
      devSigningKey: true,
      graphiql: true,
      introspection: true,
      corsOrigins: '*',
      migrateOnStart: true,
    });
  });

  it('production refuses to start without an issuer, naming the setting and the opt-in', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /JWT_JWKS_URL: required when NODE_ENV=production.*ALLOW_DEV_SIGNING_KEY/,
    );
    expect(loadConfig({ NODE_ENV: 'production', ALLOW_DEV_SIGNING_KEY: 'true' }).devSigningKey).toBe(true);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example/' })
        .devSigningKey,
    ).toBe(false);
    // Several issuers, each with its key set, are real issuers too.
    const issuers = JSON.stringify([{ issuer: 'https://a.test/', jwksUrl: 'https://a.test/jwks.json' }]);
    expect(loadConfig({ NODE_ENV: 'production', JWT_ISSUERS: issuers }).devSigningKey).toBe(false);
  });

  it('refuses a provider key set without its issuer: the default JWT_ISSUER names the development key, whose iss no provider token carries', () => {
    // Left at tenantgraph-dev, every provider token would be refused, and `user add --subject` would
    // register identities under the development issuer, where no token of the provider finds them.
    for (const mode of ['production', 'development']) {
      expect(() => loadConfig({ NODE_ENV: mode, JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(
        /JWT_ISSUER: required with JWT_JWKS_URL/,
      );
    }
    expect(loadConfig({ JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example/' }).jwt.issuer).toBe(
      'https://idp.example/',
    );
  });

  it('production turns off GraphiQL, introspection, cross-origin access and demo data unless asked for', () => {
    const production = { NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example/' };
    expect(loadConfig(production)).toMatchObject({
      production: true,
      graphiql: false,
      introspection: false,
      corsOrigins: [],
      seedDemo: false,
      migrateOnStart: true, // the embedded database has no one else to migrate it
    });
    expect(loadConfig({ ...production, DATABASE_URL: 'postgres://x@h/db' }).migrateOnStart).toBe(false);
    expect(loadConfig({ ...production, GRAPHIQL: 'true', INTROSPECTION: 'true', MIGRATE_ON_START: 'true' })).toMatchObject({
      graphiql: true,
      introspection: true,
      migrateOnStart: true,
    });
    expect(() => loadConfig({ ...production, SEED_DEMO: 'true' })).toThrow(/SEED_DEMO: demo data is never seeded/);
  });

  it('CORS_ORIGINS is a list of origins, or * for any', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example, https://admin.example:8443/' }).corsOrigins).toEqual([
      'https://app.example',
      'https://admin.example:8443',
    ]);
    expect(loadConfig({ NODE_ENV: 'production', ALLOW_DEV_SIGNING_KEY: '1', CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example' })).toThrow(/CORS_ORIGINS/);
  });

  it('says what a bad number or choice must be, in words, quoting the value back', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message({ PORT: 'http' })).toBe('invalid configuration:\n  PORT: must be a number, not "http"');
    expect(message({ PORT: '80.5' })).toBe('invalid configuration:\n  PORT: must be a whole number, not "80.5"');
    expect(message({ PORT: '70000', DATABASE_POOL_SIZE: '0' })).toBe(
      'invalid configuration:\n  PORT: must be at most 65535, not "70000"\n  DATABASE_POOL_SIZE: must be at least 1, not "0"',
    );
    expect(message({ HEAVY_QUERY_SHARE: '0' })).toBe('invalid configuration:\n  HEAVY_QUERY_SHARE: must be more than 0, not "0"');
    expect(message({ LOG_LEVEL: 'loud' })).toBe(
      'invalid configuration:\n  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
    );
    // A URL is never quoted back: it may hold a password.
    expect(message({ DATABASE_URL: 'mysql://u:secret@h/db' })).not.toContain('secret');
    // One the driver could not parse is refused here, not inside the driver at start-up.
    for (const [name, url] of [
      ['DATABASE_URL', 'postgres://u:secret@h:notaport/db'],
      ['DIRECT_DATABASE_URL', 'postgresql://u:secret@h:99999/db'],
      ['REDIS_URL', 'redis://:secret@h:port'],
    ]) {
      const refusal = message({ [name as string]: url as string });
      expect(refusal).toMatch(new RegExp(`^invalid configuration:\\n  ${name}: is not a URL that parses`));
      expect(refusal).not.toContain('secret');
    }
    expect(loadConfig({ DATABASE_URL: 'postgresql:///app?host=/var/run/postgresql' }).databaseUrl).toBeDefined();
  });
});
