import { setTimeout as sleep } from 'node:timers/promises';
import { describeUrl, reasonOf, StartupError } from '../config/startup-error.js';
import type { SqlRunner } from './sql-runner.js';

/**
 * SQLSTATEs that mean "not yet" rather than "never": the server is starting up or full. Errors
 * without a SQLSTATE (refused, unresolvable, timed out, reset) are network errors and retried too;
 * any other SQLSTATE (a wrong password, a database that does not exist) will not fix itself.
 */
const TRANSIENT_SQLSTATES = new Set(['57P03', '53300']);

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

export interface WaitOptions {
  /** How long to keep trying, in ms (0: one attempt). */
  timeoutMs: number;
  databaseUrl: string;
  /** The setting `databaseUrl` came from, named when it cannot be used (`npm run migrate`: DIRECT_DATABASE_URL too). */
  databaseUrlSetting?: string;
  /** The direct URL when it differs from `databaseUrl` (sessions go there). */
  directDatabaseUrl?: string;
  /** Told about each failed attempt that will be retried. */
  onRetry?(setting: string, reason: string, delayMs: number): void;
}

/**
 * Containers start in any order: the first connection to PostgreSQL is retried with backoff for a
 * bounded time, through the pool (DATABASE_URL) and then the session connection (DIRECT_DATABASE_URL),
 * and failing that, a StartupError names the setting, where it points, and why.
 */
export async function waitForDatabase(sql: SqlRunner, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  await retry(
    options.databaseUrlSetting ?? 'DATABASE_URL',
    options.databaseUrl,
    () => sql.query('SELECT 1'),
    deadline,
    options.onRetry,
  );
  if (options.directDatabaseUrl && options.directDatabaseUrl !== options.databaseUrl) {
    await retry(
      'DIRECT_DATABASE_URL',
      options.directDatabaseUrl,
      () => sql.withSession((session) => session.query('SELECT 1')),
      deadline,
      options.onRetry,
    );
  }
}

async function retry(
  setting: string,
  url: string,
  attempt: () => Promise<unknown>,
  deadline: number,
  onRetry: WaitOptions['onRetry'],
): Promise<void> {
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      await attempt();
      return;
    } catch (error) {
      const reason = reasonOf(error);
      const code = (error as { code?: unknown })?.code;
      const permanent = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !TRANSIENT_SQLSTATES.has(code);
      const left = deadline - Date.now();
      if (permanent || left <= 0) {
        const waited = permanent ? '' : ' (gave up after DATABASE_START_TIMEOUT_MS)';
        throw new StartupError(setting, `cannot use PostgreSQL at ${describeUrl(url)}: ${reason}${waited}`);
      }
      const wait = Math.min(delay, left);
      onRetry?.(setting, reason, wait);
      await sleep(wait);
    }
  }
}
