import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

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

/** The pid of the live process holding the embedded database in `dataDir`, if one does. */
export async function lockHolder(dataDir: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(lockPath(dataDir), 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

/** An exclusive, pid-stamped lock file; a stale one (its process is gone) is taken over. */
export async function acquireDataDirLock(dataDir: string): Promise<{ release(): Promise<void> }> {
  const path = lockPath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && isAlive(pid)) throw new DatabaseInUseError(dataDir, pid);
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
