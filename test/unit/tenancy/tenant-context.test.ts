import { describe, expect, it } from 'vitest';
import { counterValue } from '../../../src/observability/metrics.js';
import { scopedKey } from '../../../src/tenancy/scoped-key.js';
import { currentTenant, peekTenant, runInTenant, TenantContextMissingError } from '../../../src/tenancy/tenant-context.js';

const context = (tenantId: string) => ({ tenantId, tenantSlug: tenantId, userId: 'u', role: 'MEMBER', requestId: 'r' });

describe('the tenant context', () => {
  it('fails closed outside a request, and counts it', () => {
    const before = counterValue('tenant_context_missing');
    expect(() => currentTenant()).toThrow(TenantContextMissingError);
    expect(counterValue('tenant_context_missing')).toBe(before + 1);
    expect(peekTenant()).toBeUndefined();
  });

  it('follows awaits inside its run and never leaks out of it, even when the work throws', async () => {
    const seen = await runInTenant(context('a'), async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return currentTenant().tenantId;
    });
    expect(seen).toBe('a');
    await expect(runInTenant(context('b'), async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(peekTenant()).toBeUndefined();
  });

  it('keeps interleaved runs apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runInTenant(context(`t${i % 3}`), async () => {
          await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
          return [`t${i % 3}`, currentTenant().tenantId];
        }),
      ),
    );
    for (const [expected, actual] of results) expect(actual).toBe(expected);
  });

  it('is frozen: work cannot switch tenant by mutating it', () => {
    runInTenant(context('a'), () => {
      expect(() => {
        (currentTenant() as { tenantId: string }).tenantId = 'b';
      }).toThrow(TypeError);
    });
  });
});

describe('scoped keys', () => {
  it('always start with the tenant, and fail closed without one', () => {
    expect(runInTenant(context('a'), () => scopedKey(['task', 1]))).toBe('t:a\u0000task\u00001');
    expect(scopedKey(['x'], 'b')).toBe('t:b\u0000x');
    expect(() => scopedKey(['x'])).toThrow(TenantContextMissingError);
    expect(() => scopedKey(['x\u0000t:b'], 'a')).toThrow(/NUL/);
  });
});
