import { describe, expect, it } from 'vitest';
import { claimsAt, parseClaimPath, readClaim } from '../../../src/auth/claim-path.js';

describe('claim paths', () => {
  const claims = {
    tid: 'acme',
    org_id: 'org_123',
    'https://tenantgraph.example/tenant': 'namespaced',
    o: { id: 'org_2aX', slg: 'acme' },
    'https://tenantgraph.example/claims': { tenant: 'deep', 'a/b': 'slash', 'c~d': 'tilde' },
  };

  it('reads a top-level claim by its exact name, dots, colons and slashes included', () => {
    expect(readClaim(claims, parseClaimPath('tid'))).toBe('acme');
    expect(readClaim(claims, parseClaimPath('org_id'))).toBe('org_123');
    expect(readClaim(claims, parseClaimPath('https://tenantgraph.example/tenant'))).toBe('namespaced');
  });

  it('reads a nested member through a JSON Pointer, with ~1 and ~0 for / and ~ in a key', () => {
    expect(readClaim(claims, parseClaimPath('/o/slg'))).toBe('acme');
    expect(readClaim(claims, parseClaimPath('/https:~1~1tenantgraph.example~1claims/tenant'))).toBe('deep');
    expect(readClaim(claims, parseClaimPath('/https:~1~1tenantgraph.example~1claims/a~1b'))).toBe('slash');
    expect(readClaim(claims, parseClaimPath('/https:~1~1tenantgraph.example~1claims/c~0d'))).toBe('tilde');
  });

  it('finds nothing where there is nothing, and never walks into prototypes', () => {
    expect(readClaim(claims, parseClaimPath('/o/missing'))).toBeUndefined();
    expect(readClaim(claims, parseClaimPath('/tid/length'))).toBeUndefined();
    expect(readClaim(claims, parseClaimPath('/o/constructor'))).toBeUndefined();
    expect(readClaim(claims, parseClaimPath('__proto__'))).toBeUndefined();
    // A dotted name is a name, not a path: `o.slg` is no key of these claims.
    expect(readClaim(claims, parseClaimPath('o.slg'))).toBeUndefined();
  });

  it('refuses paths that could mean nothing or two things', () => {
    for (const bad of ['', '/', '/o//slg', '/o/~2', 'tid\u0000', 'x'.repeat(257)]) {
      expect(() => parseClaimPath(bad), bad).toThrow();
    }
  });

  it('builds the claims a token carries at a path', () => {
    expect(claimsAt(parseClaimPath('tid'), 'acme')).toEqual({ tid: 'acme' });
    expect(claimsAt(parseClaimPath('/o/slg'), 'acme')).toEqual({ o: { slg: 'acme' } });
  });
});
