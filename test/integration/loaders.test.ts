import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantDb } from '../../src/db/tenant-db.js';
import { createLoaders } from '../../src/loaders/create-loaders.js';
import { runInTenant } from '../../src/tenancy/tenant-context.js';
import { createTenantFixture, ownerContext, type TenantFixture } from '../helpers/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await createTenantFixture(database, { slug: 'load-a', projects: 1, tasksPerProject: 3 });
  b = await createTenantFixture(database, { slug: 'load-b', projects: 1, tasksPerProject: 3 });
});
afterAll(() => database?.destroy());

describe('tenant-keyed DataLoaders', () => {
  it('batch many loads into one statement and answer null for another tenant’s ids', async () => {
    const loaders = createLoaders(createTenantDb(database, a.id), a.id);
    await runInTenant(ownerContext(a), async () => {
      const before = database.statements.length;
      const users = await Promise.all([a.owner.id, a.member.id, b.owner.id].map((id) => loaders.userById.load(id)));
      expect(users.map((user) => user?.id ?? null)).toEqual([a.owner.id, a.member.id, null]);
      // One batch, one statement inside its tenant transaction (+ the set_config).
      expect(database.statements.slice(before).filter((sql) => !sql.includes('set_config'))).toHaveLength(1);
    });
  });

  it('refuse to run a batch for a tenant other than their own', async () => {
    const loaders = createLoaders(createTenantDb(database, a.id), a.id);
    await runInTenant(ownerContext(b), async () => {
      await expect(loaders.userById.load(b.owner.id)).rejects.toThrow(/outside the tenant it was created for/);
    });
  });

  it('keep the tenant in every cache key', async () => {
    const loaders = createLoaders(createTenantDb(database, a.id), a.id);
    await runInTenant(ownerContext(a), () => loaders.userById.load(a.owner.id));
    loaders.userById.prime(a.member.id, null);
    // DataLoader exposes its cache only through clear/prime; a key without the tenant would not match.
    const keys = [...((loaders.userById as unknown as { _cacheMap: Map<string, unknown> })._cacheMap?.keys() ?? [])];
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key.startsWith(`t:${a.id}\u0000`)).toBe(true);
  });
});
