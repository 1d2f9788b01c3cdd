import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { type AdminReply, type AdminRequest, adminSocketDir, adminSocketPath, MAX_SOCKET_PATH } from './admin-socket-path.js';

/** Largest command line accepted: a few flags, never a payload. */
const MAX_REQUEST_BYTES = 16 * 1024;

export interface AdminSocketOptions {
  dataDir: string;
  logger: Logger;
  /** Runs one command line (the CLI's own runner, on the server's database); resolves its exit code. */
  run(argv: string[], out: (line: string) => void, err: (line: string) => void): Promise<number>;
}

/**
 * Lets `npm run cli` administer the embedded database while this server holds it: PGlite serves one
 * process, so a command is handed to the process that has it open and runs here, with the same
 * code, checks and messages as in the CLI's own process. Resolves with a close function, or with
 * undefined (and a warning) when the socket cannot be made.
 */
export async function serveAdminSocket(options: AdminSocketOptions): Promise<(() => Promise<void>) | undefined> {
  const path = adminSocketPath(options.dataDir);
  if (path.length > MAX_SOCKET_PATH) {
    options.logger.warn({ path }, 'DATA_DIR is too long a path for the admin socket: stop the server to use the CLI');
    return undefined;
  }
  const dir = adminSocketDir(options.dataDir);
  const server = createServer((socket) => serve(socket, options));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Its 0700 is the socket's only guard: a folder that is not a directory of ours (a symlink,
    // someone else's) is not used.
    const folder = await lstat(dir);
    if (!folder.isDirectory() || (process.getuid && folder.uid !== process.getuid())) {
      throw new Error(`${dir} is not a directory owned by this user`);
    }
    await chmod(dir, 0o700); // an existing folder keeps its mode otherwise
    // A socket file left by a server that died: this process holds the data directory's lock, so no
    // other server is listening on it.
    await rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } catch (error) {
    options.logger.warn({ err: error, path }, 'the admin socket could not be opened: stop the server to use the CLI');
    return undefined;
  }
  server.on('error', (error) => options.logger.warn({ err: error }, 'admin socket error'));
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
}

function serve(socket: Socket, options: AdminSocketOptions): void {
  let received = '';
  const send = (reply: AdminReply) => socket.write(`${JSON.stringify(reply)}\n`);
  socket.setEncoding('utf8');
  socket.on('error', () => {}); // a CLI that went away: nothing to answer
  socket.on('data', (chunk: string) => {
    received += chunk;
    if (received.length > MAX_REQUEST_BYTES) {
      socket.destroy();
      return;
    }
    const end = received.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    const argv = parseRequest(received.slice(0, end));
    if (!argv) {
      send({ err: 'malformed admin request' });
      socket.end(`${JSON.stringify({ code: 1 } satisfies AdminReply)}\n`);
      return;
    }
    // The command words only: flags may carry names and emails, and the reply may carry a token.
    options.logger.info(
      {
        command: argv
          .filter((word) => !word.startsWith('-'))
          .slice(0, 2)
          .join(' '),
      },
      'admin command',
    );
    void options
      .run(
        argv,
        (line) => send({ out: line }),
        (line) => send({ err: line }),
      )
      .catch((error: unknown) => {
        options.logger.warn({ err: error }, 'admin command failed');
        send({ err: 'the command failed on the server; see its log' });
        return 1;
      })
      .then((code) => socket.end(`${JSON.stringify({ code } satisfies AdminReply)}\n`));
  });
}

function parseRequest(line: string): string[] | undefined {
  try {
    const request = JSON.parse(line) as Partial<AdminRequest>;
    return Array.isArray(request.argv) && request.argv.every((word) => typeof word === 'string') ? request.argv : undefined;
  } catch {
    return undefined;
  }
}
