import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

// A file system without hard links (SMB, some FUSE mounts): link() fails with EPERM there.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    link: async () => {
      throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
    },
  };
});

const { acquireDataDirLock, DatabaseInUseError, lockHolder } = await import('../../../src/db/data-dir-lock.js');

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tenantgraph-nolinks-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('still locks the embedded database where the file system has no hard links', async () => {
  const lock = await acquireDataDirLock(dataDir);
  expect(await readFile(join(dataDir, 'tenantgraph.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\\n`));
  await expect(acquireDataDirLock(dataDir)).rejects.toBeInstanceOf(DatabaseInUseError);
  await lock.release();
  expect(await lockHolder(dataDir)).toBeUndefined();
});
