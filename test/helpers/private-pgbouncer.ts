import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

/**
 * Debian's PgBouncer, of the test's own, on a free loopback port in front of a PostgreSQL server,
 * in transaction mode — what many instances in front of one database go through (Supavisor and
 * RDS Proxy pool alike). `urlOf(directUrl)` is the same database through it.
 */
export interface PrivatePgBouncer {
  urlOf(directUrl: string): string;
  destroy(): Promise<void>;
}

export async function startPrivatePgBouncer(
  upstream: { host: string; port: number },
  /** More `[pgbouncer]` settings, as `key = value` lines. */
  settings: string[] = [],
): Promise<PrivatePgBouncer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tenantgraph-pgbouncer-'));
  await writeFile(join(dir, 'users.txt'), '"postgres" ""\n');
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.host} port=${upstream.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      'default_pool_size = 20',
      'ignore_startup_parameters = extra_float_digits,options',
      ...settings,
      '',
    ].join('\n'),
  );
  await chmod(dir, 0o755);
  // PgBouncer will not run as root: it drops to postgres itself.
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
  });
  let failedToSpawn: Error | undefined;
  child.on('error', (error) => {
    failedToSpawn = error;
  });
  const urlOf = (directUrl: string) => {
    const url = new URL(directUrl);
    url.host = `127.0.0.1:${port}`;
    return url.toString();
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.query('SELECT 1');
      await probe.end();
      break;
    } catch (error) {
      await probe.end().catch(() => {});
      if (failedToSpawn) throw new Error(`PgBouncer could not be run (Debian package pgbouncer): ${failedToSpawn.message}`);
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`PgBouncer did not start: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    urlOf,
    async destroy() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
