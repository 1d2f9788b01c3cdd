import { randomUUID } from 'node:crypto';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

/** A takeover left behind by a process that died inside it is this old at most. */
const ABANDONED_TAKEOVER_MS = 10_000;

/** The pid in a lock file; undefined when there is no file, NaN when it holds no pid. */
async function readPid(path: string): Promise<number | undefined> {
  const content = await readFile(path, 'utf8').catch(() => undefined);
  return content === undefined ? undefined : Number.parseInt(content, 10);
}

/** The pid of the live process holding the embedded database in `dataDir`, if one does. */
export async function lockHolder(dataDir: string): Promise<number | undefined> {
  const pid = await readPid(lockPath(dataDir));
  return pid !== undefined && Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

/**
 * Creates `path` holding `content`, or fails with EEXIST — in one step: the file is written under
 * a name of its own and hard-linked into place, so nobody ever reads a lock file without its pid
 * (opening with 'wx' and then writing left a moment when a second process read an empty lock, took
 * it for a dead one, removed it and took the database too).
 */
async function createWith(path: string, content: string): Promise<void> {
  const draft = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(draft, content);
  try {
    await link(draft, path);
  } finally {
    await rm(draft, { force: true });
  }
}

const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EEXIST';

/**
 * Removes the lock of `deadPid`, unless someone else got there first. Many may find the same dead
 * lock at once; only one at a time, holding the takeover file, looks again and removes it — else
 * one could remove the lock another had just taken in its place.
 */
async function removeDeadLock(path: string, deadPid: number): Promise<void> {
  // deadPid is NaN for a lock that holds no pid (an older version's, or a damaged one): also dead.
  const takeover = `${path}.takeover`;
  try {
    await createWith(takeover, String(process.pid));
  } catch (error) {
    if (!exists(error)) throw error;
    const since = (await stat(takeover).catch(() => undefined))?.mtimeMs ?? Date.now();
    if (Date.now() - since > ABANDONED_TAKEOVER_MS) await rm(takeover, { force: true });
    else await sleep(10);
    return;
  }
  try {
    const pid = await readPid(path);
    if (pid !== undefined && (pid === deadPid || (Number.isNaN(pid) && Number.isNaN(deadPid)))) await rm(path, { force: true });
  } finally {
    await rm(takeover, { force: true });
  }
}

/** An exclusive, pid-stamped lock file; a stale one (its process is gone) is taken over. */
export async function acquireDataDirLock(dataDir: string): Promise<{ release(): Promise<void> }> {
  const path = lockPath(dataDir);
  const deadline = Date.now() + ABANDONED_TAKEOVER_MS * 2;
  while (Date.now() < deadline) {
    try {
      await createWith(path, String(process.pid));
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if (!exists(error)) throw error;
    }
    const pid = await readPid(path);
    // Released between the two looks: the next round tries again.
    if (pid === undefined) continue;
    if (Number.isInteger(pid) && isAlive(pid)) throw new DatabaseInUseError(dataDir, pid);
    await removeDeadLock(path, pid);
  }
  throw new Error(`could not lock ${dataDir}`);
}
