import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDevSigningKey } from '../../../src/auth/dev-signing-key.js';

describe('the development signing key', () => {
  it('is one key however many servers create it at once on the same data folder', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tenantgraph-key-'));
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevSigningKey(dataDir)));
      expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
      expect((await loadOrCreateDevSigningKey(dataDir)).kid).toBe(keys[0]?.kid);
      // No draft left behind.
      expect(await readdir(dataDir)).toHaveLength(1);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
