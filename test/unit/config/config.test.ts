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
});
