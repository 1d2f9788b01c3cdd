import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = new URL('../../../scripts/check-lock-file.mjs', import.meta.url).pathname;
const LOCK = new URL('../../../package-lock.json', import.meta.url).pathname;

describe('scripts/check-lock-file.mjs (CI runs it before npm ci)', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tg-lock-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('accepts the committed lock file: every platform’s optional packages are recorded', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT]);
    expect(stdout).toMatch(/records every optional package/);
  });

  it('refuses a lock file missing another platform’s binary, naming it and the fix', async () => {
    const lock = JSON.parse(await readFile(LOCK, 'utf8')) as { packages: Record<string, { optionalDependencies?: object }> };
    const [owner, entry] = Object.entries(lock.packages).find(([, value]) => value.optionalDependencies) ?? [];
    const name = Object.keys(entry?.optionalDependencies ?? {})[0];
    expect(name).toBeDefined();
    delete lock.packages[`node_modules/${name}`];
    const broken = join(folder, 'package-lock.json');
    await writeFile(broken, JSON.stringify(lock));
    const failure = await run(process.execPath, [SCRIPT, broken]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`${name} (optional dependency of ${owner || 'the project'})`);
    expect(failure?.stderr).toContain('npm run lock');
  });
});
