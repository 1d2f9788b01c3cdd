import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { runServerUntilExit } from '../helpers/server-process.js';

/** One line on stderr, naming the setting, with no stack trace; a non-zero exit. */
function expectOneLineNaming(result: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('start-up failures name the setting at fault', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tg-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('an unreachable DATABASE_URL, after retrying with backoff for DATABASE_START_TIMEOUT_MS', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runServerUntilExit({
      DATABASE_URL: `postgres://app:secret@127.0.0.1:${port}/tenantgraph`,
      DATABASE_START_TIMEOUT_MS: '1500',
      DATA_DIR: dataDir,
    });
    expectOneLineNaming(
      result,
      new RegExp(`^tenantgraph: DATABASE_URL: cannot use PostgreSQL at 127\\.0\\.0\\.1:${port}/tenantgraph: ECONNREFUSED`),
    );
    expect(result.stderr).not.toContain('secret');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    const retries = result.stdout.split('\n').filter((line) => line.includes('PostgreSQL not reachable yet; retrying'));
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });

  it('`npm run migrate` names DIRECT_DATABASE_URL when that is the URL it cannot reach', async () => {
    const port = await freePort();
    const result = await runServerUntilExit(
      {
        DIRECT_DATABASE_URL: `postgres://owner:secret@127.0.0.1:${port}/tenantgraph`,
        DATABASE_START_TIMEOUT_MS: '0',
        DATA_DIR: dataDir,
      },
      { script: 'src/cli/migrate.ts' },
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^tenantgraph-migrate: DIRECT_DATABASE_URL: cannot use PostgreSQL at 127\\.0\\.0\\.1:${port}/tenantgraph: ECONNREFUSED`,
        ),
      ),
    ]);
    expect(result.stderr).not.toContain('secret');
  });

  it('an unreachable REDIS_URL', async () => {
    const port = await freePort();
    const result = await runServerUntilExit({ REDIS_URL: `redis://127.0.0.1:${port}`, DATA_DIR: dataDir });
    expectOneLineNaming(
      result,
      new RegExp(`^tenantgraph: REDIS_URL: cannot reach Redis at 127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
    );
  });

  describe('a port in use', () => {
    let occupied: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      occupied = createServer();
      await new Promise<void>((resolve) => occupied.listen(port, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => occupied.close(() => resolve()));
    });

    it('names PORT', async () => {
      const result = await runServerUntilExit({ PORT: String(port), DATA_DIR: dataDir });
      expectOneLineNaming(result, new RegExp(`^tenantgraph: PORT: 127\\.0\\.0\\.1:${port} is already in use$`));
    });
  });

  it('a bad setting', async () => {
    const result = await runServerUntilExit({ DATABASE_START_TIMEOUT_MS: 'soon', DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tenantgraph: invalid configuration:\n\s+DATABASE_START_TIMEOUT_MS: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
