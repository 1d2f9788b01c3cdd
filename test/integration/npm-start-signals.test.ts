import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';

// `npm start` as a process manager runs it: the signal goes to npm, and only to npm. npm passes it
// to its child; a shell in between (`sh -c "… && tsx …"`) died of it and left the server running,
// still holding the port, so the script must leave the server itself as npm's child.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  let dataDir: string;
  /** Process groups started (npm leads each): whatever is left of them is killed at the end. */
  const groups: number[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tg-npm-start-'));
  });
  afterAll(async () => {
    for (const group of groups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Nothing left of it: as it should be.
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the server gracefully on ${signal} sent to npm, and frees the port`, async () => {
      const port = await freePort();
      const { DATABASE_URL: _d, REDIS_URL: _r, TEST_DATABASE_URL: _t, ...environment } = process.env;
      const child = spawn('npm', ['start'], {
        cwd: ROOT,
        // A data folder per case: a server left running by one would hold the next one's.
        env: {
          ...environment,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: join(dataDir, signal),
          SEED_DEMO: 'false',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // A group of its own, so that a server left behind can be found and ended after the test.
        detached: true,
      });
      groups.push(child.pid as number);
      let output = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      const deadline = Date.now() + 60_000;
      while (!output.includes('"msg":"tenantgraph is listening"')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await listening(port)).toBe(true);

      const exited = once(child, 'exit').then(() => true);
      child.kill(signal);
      expect(await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000, false))]), 'npm exited').toBe(true);
      // npm is gone; the server must be too, once it has shut down.
      const stopped = Date.now() + 10_000;
      while ((await listening(port)) && Date.now() < stopped) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await listening(port)).toBe(false);
      expect(output).toContain(`"signal":"${signal}","msg":"shutting down"`);
    }, 90_000);
  }
});
