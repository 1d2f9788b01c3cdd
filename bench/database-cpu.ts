import { readdirSync, readFileSync } from 'node:fs';

/**
 * The CPU time, in ms, that this machine's PostgreSQL processes (every process named `postgres`:
 * the backends, the WAL writer, the checkpointer, …) have used so far, read from /proc's scheduler
 * statistics (nanoseconds); undefined where /proc does not show them (not Linux, or no PostgreSQL
 * here). Read before and after a run, it gives the database's share of a request's cost, which
 * the server's own CPU leaves out and req/s includes: on a small machine both compete for the same
 * cores. A backend that exits during the run takes its time with it; the servers' pooled ones live
 * through it.
 */
export function postgresCpuMs(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let nanoseconds = 0;
  let found = false;
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8') !== 'postgres\n') continue;
      nanoseconds += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
      found = true;
    } catch {
      // Gone between the listing and the read, or not ours to read: not counted.
    }
  }
  return found ? nanoseconds / 1e6 : undefined;
}

/** Whether a PostgreSQL URL names this machine, whose processes /proc shows. */
export function isLocalDatabase(databaseUrl: string): boolean {
  const host = new URL(databaseUrl).hostname;
  return host === '' || host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}
