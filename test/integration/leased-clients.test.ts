import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantDbs, TENANT_ROLE, TENANT_SETTING } from '../../src/db/tenant-db.js';
import { LeaseTimeoutError } from '../../src/tenancy/leased-clients.js';
import { TenantBinding } from '../../src/tenancy/tenant-binding.js';
import { tenantBoundAdapter, UnboundStatementError } from '../../src/tenancy/tenant-bound-adapter.js';
import { TenantClientMismatchError } from '../../src/tenancy/tenant-client.js';
import { currentTenant, runInTenant } from '../../src/tenancy/tenant-context.js';
import { TenantScopeError } from '../../src/tenancy/tenant-scope.js';
import { createTenantFixture, ownerContext, type TenantFixture } from '../helpers/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

// Requests lease a tenant client from a fixed pool (src/tenancy/leased-clients.ts) and are bound
// to it for the lease alone. What happens at the edges of a lease is what keeps tenants apart.

let database: TestDatabase;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await createTenantFixture(database, { slug: 'lease-a' });
  b = await createTenantFixture(database, { slug: 'lease-b' });
});
afterAll(() => database?.destroy());

const tenantOfStatement = "SELECT current_setting('app.tenant_id', true) AS tenant";

describe('a leased tenant client', () => {
  it('serves the execution it was leased to, and refuses it once released, before any SQL', async () => {
    const dbs = createTenantDbs(database, { size: 2, waitMs: 1_000 });
    await runInTenant(ownerContext(a), async () => {
      const lease = await dbs.lease(currentTenant());
      const db = lease.client;
      expect(await db.task.count()).toBe(a.taskIds.length);
      lease.release();
      const before = database.statements.length;
      await expect(db.task.count()).rejects.toBeInstanceOf(TenantClientMismatchError);
      await expect(db.$queryRawUnsafe('SELECT 1')).rejects.toBeInstanceOf(TenantClientMismatchError);
      expect(database.statements.length).toBe(before);
    });
  });

  it('refuses an earlier request of the same tenant once the client serves another', async () => {
    const dbs = createTenantDbs(database, { size: 1, waitMs: 1_000 });
    const first = await runInTenant(ownerContext(a, 'first'), async () => {
      const lease = await dbs.lease(currentTenant());
      lease.release();
      // What a stray promise of the first request would run later, in the first request's context.
      return { db: lease.client, later: (work: () => Promise<unknown>) => runInTenant(ownerContext(a, 'first'), work) };
    });
    await runInTenant(ownerContext(a, 'second'), async () => {
      const lease = await dbs.lease(currentTenant());
      expect(lease.client).toBe(first.db); // the pool's one client, bound again
      // The first request's own context is a different execution: refused, though the tenant is the same.
      await expect(first.later(() => first.db.task.count())).rejects.toBeInstanceOf(TenantClientMismatchError);
      expect(await lease.client.task.count()).toBe(a.taskIds.length);
      lease.release();
    });
  });

  it('refuses another tenant’s execution while leased', async () => {
    const dbs = createTenantDbs(database, { size: 1, waitMs: 1_000 });
    await runInTenant(ownerContext(a), async () => {
      const lease = await dbs.lease(currentTenant());
      await expect(runInTenant(ownerContext(b), () => lease.client.task.count())).rejects.toBeInstanceOf(
        TenantClientMismatchError,
      );
      lease.release();
    });
  });

  it('finishes what was in flight at release under its own tenant before the client serves the next tenant', async () => {
    const dbs = createTenantDbs(database, { size: 1, waitMs: 5_000 });
    const order: string[] = [];
    const slow = runInTenant(ownerContext(a), async () => {
      const lease = await dbs.lease(currentTenant());
      const pending = lease.client.$queryRawUnsafe<{ tenant: string }[]>(
        `SELECT current_setting('app.tenant_id', true) AS tenant, pg_sleep(0.2) IS NULL AS slept`,
      );
      // Released while its statement runs (a request that ended with a resolver still pending).
      lease.release();
      const rows = await pending;
      order.push('a settled');
      return rows[0]?.tenant;
    });
    const next = runInTenant(ownerContext(b), async () => {
      const lease = await dbs.lease(currentTenant());
      order.push('b leased');
      const rows = await lease.client.$queryRawUnsafe<{ tenant: string }[]>(tenantOfStatement);
      lease.release();
      return rows[0]?.tenant;
    });
    expect(await slow).toBe(a.id);
    expect(await next).toBe(b.id);
    expect(order).toEqual(['a settled', 'b leased']);
  });

  it('makes no more clients than its size, and fails a wait that outlasts waitMs as unavailable', async () => {
    const dbs = createTenantDbs(database, { size: 1, waitMs: 100 });
    await runInTenant(ownerContext(a), async () => {
      const held = await dbs.lease(currentTenant());
      await expect(runInTenant(ownerContext(b), () => dbs.lease(currentTenant()))).rejects.toBeInstanceOf(LeaseTimeoutError);
      held.release();
      const again = await runInTenant(ownerContext(b), () => dbs.lease(currentTenant()));
      again.release();
    });
    expect(dbs.made).toBe(1);
  });

  it('refuses a batch $transaction, whose operations would have started outside it', async () => {
    const dbs = createTenantDbs(database, { size: 1, waitMs: 1_000 });
    await runInTenant(ownerContext(a), async () => {
      const lease = await dbs.lease(currentTenant());
      await expect(lease.client.$transaction([lease.client.task.count()] as never)).rejects.toBeInstanceOf(TenantScopeError);
      expect(await lease.client.$transaction(async (tx) => await tx.task.count())).toBe(a.taskIds.length);
      lease.release();
    });
  });
});

describe('a tenant connection bound to no tenant', () => {
  it('sends nothing: the statement fails closed', async () => {
    const binding = new TenantBinding();
    const adapter = await tenantBoundAdapter(database.connection, binding, {
      setting: TENANT_SETTING,
      role: TENANT_ROLE,
    }).connect();
    const before = database.statements.length;
    await expect(adapter.queryRaw({ sql: tenantOfStatement, args: [], argTypes: [] })).rejects.toBeInstanceOf(
      UnboundStatementError,
    );
    await expect(adapter.startTransaction()).rejects.toBeInstanceOf(UnboundStatementError);
    expect(database.statements.length).toBe(before);
  });
});
