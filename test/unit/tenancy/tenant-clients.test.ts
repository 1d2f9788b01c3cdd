import { describe, expect, it } from 'vitest';
import { TenantClients } from '../../../src/tenancy/tenant-clients.js';

/** Clients that record which tenants they were made for. */
function recordingClients(max: number) {
  const made: string[] = [];
  const clients = new TenantClients((tenantId) => {
    made.push(tenantId);
    return { tenantId };
  }, max);
  return { clients, made };
}

describe('TenantClients', () => {
  it('makes one client per tenant and hands the same one back', () => {
    const { clients, made } = recordingClients(3);
    const first = clients.for('a');
    expect(clients.for('a')).toBe(first);
    expect(clients.for('b')).toEqual({ tenantId: 'b' });
    expect(made).toEqual(['a', 'b']);
  });

  it('keeps the most recently used tenants and makes a fresh client for one it dropped', () => {
    const { clients, made } = recordingClients(2);
    const a = clients.for('a');
    clients.for('b');
    clients.for('a'); // a is now the most recent: b goes next
    clients.for('c');
    expect(clients.size).toBe(2);
    expect(clients.for('a')).toBe(a);
    clients.for('b');
    expect(made).toEqual(['a', 'b', 'c', 'b']);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new TenantClients(() => ({}), 0)).toThrow(RangeError);
    expect(() => new TenantClients(() => ({}), 1.5)).toThrow(RangeError);
  });
});
