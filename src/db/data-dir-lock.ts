import { randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by another process (pid ${pid}). ` +
        'Stop that server first, or point DATABASE_URL at a PostgreSQL server to share one database.',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const lockPath = (dataDir: string) => join(dataDir, 'tenantgraph.lock');

/**
 * Written after the pid: a lock holding this process's pid but another instance was left by an
 * earlier process that had the same pid — in a container the server is pid 1 after every restart,
 * so a lock left by a crash would otherwise name a live process (this one) for ever.
 */
interface Stamp {
  pid: number;
  instance: string | undefined;
}

const THIS_INSTANCE = randomUUID();
const ours: Stamp = { pid: process.pid, instance: THIS_INSTANCE };
const stamp = `${ours.pid}\n${ours.instance}`;

/** What a lock file holds; undefined when there is no file (pid NaN when it holds none). */
async function readStamp(path: string): Promise<Stamp | undefined> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pid = '', instance] = content.split('\n');
  return { pid: Number.parseInt(pid, 10), instance };
}

/** Whether the process that wrote `stamp` still runs (this one, only if it is this very instance). */
function holds({ pid, instance }: Stamp): boolean {
  if (!Number.isInteger(pid)) return false;
  return pid === process.pid ? instance === THIS_INSTANCE : isAlive(pid);
}

/** The pid of the live process holding the embedded database in `dataDir`, if one does. */
export async function lockHolder(dataDir: string): Promise<number | undefined> {
  const found = await readStamp(lockPath(dataDir));
  return found && holds(found) ? found.pid : undefined;
}

/**
 * Creates `path` holding this process's stamp, or fails with EEXIST — in one step: the file is
 * written under a name of its own and hard-linked into place, so nobody ever reads a lock file
 * without its pid (opening with 'wx' and then writing left a moment when a second process read an
 * empty lock, took it for a dead one, removed it and took the database too).
 */
async function createStamped(path: string): Promise<void> {
  const draft = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(draft, stamp);
  try {
    await link(draft, path);
  } catch (error) {
    if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // A file system without hard links (SMB, some FUSE mounts): create, then write. A reader may
    // find it empty for a moment; it then takes it for dead, but removeDeadLock looks again under
    // the takeover file and leaves a lock that has meanwhile got its stamp.
    await writeFile(path, stamp, { flag: 'wx' });
  } finally {
    await rm(draft, { force: true });
  }
}

/** What link() fails with where the file system has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EEXIST';
const same = (a: Stamp, b: Stamp) =>
  (a.pid === b.pid || (Number.isNaN(a.pid) && Number.isNaN(b.pid))) && a.instance === b.instance;

/**
 * Removes the lock `dead` stamped, unless someone else got there first. Many may find the same dead
 * lock at once; only one at a time, holding the takeover file, looks again and removes it — else
 * one could remove the lock another had just taken in its place. A takeover file is broken only
 * when its own writer is gone (never by age: a paused process is not a dead one).
 */
async function removeDeadLock(path: string, dead: Stamp): Promise<void> {
  const takeover = `${path}.takeover`;
  try {
    await createStamped(takeover);
  } catch (error) {
    if (!exists(error)) throw error;
    const taker = await readStamp(takeover);
    if (taker && !holds(taker)) await rm(takeover, { force: true });
    else await sleep(10);
    return;
  }
  try {
    const now = await readStamp(path);
    if (now && same(now, dead)) await rm(path, { force: true });
  } finally {
    await rm(takeover, { force: true });
  }
}

/** How long acquiring may go round (a takeover in progress elsewhere) before it gives up. */
const ACQUIRE_MS = 20_000;

/** An exclusive, pid-stamped lock file; a stale one (its process is gone) is taken over. */
export async function acquireDataDirLock(dataDir: string): Promise<{ release(): Promise<void> }> {
  const path = lockPath(dataDir);
  const deadline = Date.now() + ACQUIRE_MS;
  while (Date.now() < deadline) {
    try {
      await createStamped(path);
      return {
        async release() {
          const now = await readStamp(path);
          // Only this instance's own lock: never one another process took after it.
          if (now && same(now, ours)) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if (!exists(error)) throw error;
    }
    const found = await readStamp(path);
    // Released between the two looks: the next round tries again.
    if (found === undefined) continue;
    if (holds(found)) throw new DatabaseInUseError(dataDir, found.pid);
    await removeDeadLock(path, found);
  }
  throw new Error(`could not lock ${dataDir}: another process kept taking over a stale lock`);
}
