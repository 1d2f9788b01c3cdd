import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports children's CPU in clock ticks of 1/100 s (USER_HZ) on every architecture Node supports. */
const NANOSECONDS_PER_TICK = 10_000_000;

/**
 * The CPU time, in ms, that this machine's PostgreSQL processes (every process named `postgres`:
 * the backends, the WAL writer, the checkpointer, …) have used so far, read from /proc; undefined
 * where /proc does not show them (not Linux, or no PostgreSQL here). Read before and after a run,
 * it gives the database's share of a request's cost, which the server's own CPU leaves out and
 * req/s includes: on a small machine both compete for the same cores. A live process counts its
 * scheduler time (nanoseconds); one that has exited — a pool closing an idle connection, a parallel
 * worker — counts in its postmaster's reaped children's time (clock ticks), so the sum never falls
 * when a backend goes (it did: a run in which the peer's pool closed connections read -4 ms a request).
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
      const own = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
      // Fields after the command's closing parenthesis: state is the 3rd of stat's fields,
      // cutime and cstime the 16th and 17th; only a postmaster has reaped children.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const reapedTicks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
      nanoseconds += own + reapedTicks * NANOSECONDS_PER_TICK;
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
