import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DatabaseInUseError, lockHolder } from '../../../src/db/data-dir-lock.js';

describe('the embedded database lock', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tenantgraph-lock-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('goes to exactly one of many that ask at once; the others are told who holds it', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 20 }, () => acquireDataDirLock(dataDir)));
    const held = attempts.filter((attempt) => attempt.status === 'fulfilled');
    const refused = attempts.filter((attempt) => attempt.status === 'rejected');
    expect(held).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const refusal of refused) {
      expect((refusal as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseInUseError);
      expect((refusal as PromiseRejectedResult).reason.pid).toBe(process.pid);
    }
    expect(await lockHolder(dataDir)).toBe(process.pid);
    await (held[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect(await lockHolder(dataDir)).toBeUndefined();
  });

  it('is never seen without its pid, so a process that looks while another takes it never takes it for a dead one', async () => {
    // Another thread looks as fast as it can while this one takes and lets go of the lock.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const looker = new Worker(
      `const { readFileSync } = require('node:fs');
       const { parentPort, workerData } = require('node:worker_threads');
       const seen = new Set();
       while (Atomics.load(workerData.stop, 0) === 0) {
         try { seen.add(readFileSync(workerData.path, 'utf8')); } catch {}
       }
       parentPort.postMessage([...seen]);`,
      { eval: true, workerData: { path: join(dataDir, 'tenantgraph.lock'), stop } },
    );
    const seen = new Promise<string[]>((resolve) => looker.once('message', resolve));
    for (let round = 0; round < 300; round++) await (await acquireDataDirLock(dataDir)).release();
    Atomics.store(stop, 0, 1);
    // Only ever the whole stamp: this process's pid and its instance.
    const contents = await seen;
    expect(contents).toHaveLength(1);
    expect(contents[0]).toMatch(new RegExp(`^${process.pid}\\n[0-9a-f-]{36}$`));
    await looker.terminate();
  });

  it('takes over a lock whose process is gone, once, however many ask at once', async () => {
    // A pid far above any pid_max: no process has it.
    await writeFile(join(dataDir, 'tenantgraph.lock'), '2147483646');
    const attempts = await Promise.allSettled(Array.from({ length: 20 }, () => acquireDataDirLock(dataDir)));
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
    expect(await readFile(join(dataDir, 'tenantgraph.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\\n`));
  });

  it('takes over a lock left by an earlier process with the same pid (a container restarted: pid 1 again)', async () => {
    for (const left of [`${process.pid}\nanother-instance`, String(process.pid)]) {
      await writeFile(join(dataDir, 'tenantgraph.lock'), left);
      expect(await lockHolder(dataDir)).toBeUndefined();
      const lock = await acquireDataDirLock(dataDir);
      expect(await lockHolder(dataDir)).toBe(process.pid);
      await lock.release();
    }
  });

  it('lets go of its own lock only: one another process took since is left alone', async () => {
    const lock = await acquireDataDirLock(dataDir);
    const theirs = `${process.ppid}\nsomeone-else`;
    await writeFile(join(dataDir, 'tenantgraph.lock'), theirs);
    await lock.release();
    expect(await readFile(join(dataDir, 'tenantgraph.lock'), 'utf8')).toBe(theirs);
  });

  it('takes over a lock file that holds no pid (left by an older version that died writing it)', async () => {
    await writeFile(join(dataDir, 'tenantgraph.lock'), '');
    const lock = await acquireDataDirLock(dataDir);
    expect(await lockHolder(dataDir)).toBe(process.pid);
    await lock.release();
  });
});
