import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The real server as its own process (`src/main.ts`, as `npm start` runs it), for the faults a
 * process must survive: an unowned 'error' event or rejection ends a process, not a test. Its
 * JSON log lines are collected, so a test can assert the last-resort handler never fired.
 */
export interface ServerProcess {
  url: string;
  pid: number;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Everything it wrote to stdout so far (log lines and what it prints for people). */
  stdout(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Log lines of the last-resort handler: each one is a bug. */
  lastResortLines(): Record<string, unknown>[];
  /** A full garbage collection in the server (started with `inspect`), through its inspector. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServerProcess(
  environment: Record<string, string>,
  options: { inspect?: boolean } = {},
): Promise<ServerProcess> {
  const inspect = options.inspect ? ['--inspect=127.0.0.1:0'] : [];
  const child: ChildProcess = spawn(process.execPath, [...inspect, '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: serverEnvironment(environment),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  let resolveUrl: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'tenantgraph is listening') resolveUrl(String(entry.url));
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`the server exited (${child.exitCode}) before listening:\n${stderr}`);
  });
  const url = await Promise.race([listening, exited, timeout(60_000, `the server did not start:\n${stderr}`)]);
  exited.catch(() => {});
  return {
    url,
    pid: child.pid as number,
    logs,
    stdout: () => stdout,
    alive: () => child.exitCode === null && child.signalCode === null,
    lastResortLines: () => logs.filter((entry) => entry.lastResort === true),
    async collectGarbage() {
      const inspector = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(stderr)?.[0];
      if (!inspector) throw new Error('the server was not started with inspect');
      const socket = new WebSocket(inspector);
      await once(socket, 'open');
      const answered = once(socket, 'message');
      socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
      await answered;
      socket.close();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), timeout(10_000, 'the server did not stop').catch(() => child.kill('SIGKILL'))]);
    },
  };
}

/**
 * Production mode, as deployed, with the development key explicitly allowed (the tests sign their
 * tokens with it); `environment` overrides any of it ('' unsets).
 */
function serverEnvironment(environment: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...stripped(process.env),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    ALLOW_DEV_SIGNING_KEY: 'true',
    ...environment,
  };
}

/** How a server process that was expected to refuse to start ended. */
export interface RefusedStart {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the server as its own process and waits for it to exit (it must, within `timeoutMs`). */
export async function runServerUntilExit(
  environment: Record<string, string>,
  options: { script?: string; timeoutMs?: number } = {},
): Promise<RefusedStart> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script ?? 'src/main.ts'], {
    cwd: ROOT,
    env: serverEnvironment(environment),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The test run's own settings (a test database, Redis) must not leak into the server under test. */
function stripped(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _d, REDIS_URL: _r, TEST_DATABASE_URL: _t, ...rest } = env;
  return rest;
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
