import { createConnection } from 'node:net';
import { AdminError } from '../admin/admin-errors.js';
import { type AdminReply, adminSocketPath } from '../admin/admin-socket-path.js';

/** How long to wait for a server that holds the database but is still starting (migrations, checks). */
const STARTING_SERVER_WAIT_MS = 15_000;

/**
 * Hands a command line to the server that holds the embedded database and relays what it prints;
 * resolves with the command's exit code — or with 'released' when the holder let the database go
 * without ever answering (another CLI command that finished), so that the caller can open it.
 */
export async function sendToAdminSocket(
  dataDir: string,
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
  options: { waitMs?: number; stillHeld?: () => Promise<boolean> } = {},
): Promise<number | 'released'> {
  const waitMs = options.waitMs ?? STARTING_SERVER_WAIT_MS;
  const path = adminSocketPath(dataDir);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await exchange(path, argv, out, err);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const notYet = code === 'ENOENT' || code === 'ECONNREFUSED';
      if (notYet && options.stillHeld && !(await options.stillHeld())) return 'released';
      if (!notYet || Date.now() > deadline) {
        throw new AdminError(
          `the embedded database in ${dataDir} is in use by another process, and it answers no admin commands ` +
            `(${notYet ? 'no admin socket' : code}): stop the server to administer it, or restart it with this version`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function exchange(path: string, argv: string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffered = '';
    let exitCode: number | undefined;
    let connected = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ argv })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        let reply: AdminReply;
        try {
          reply = JSON.parse(line) as AdminReply;
        } catch {
          err('the server sent an answer the CLI cannot read');
          socket.destroy();
          return;
        }
        if ('out' in reply) out(reply.out);
        else if ('err' in reply) err(reply.err);
        else exitCode = reply.code;
      }
    });
    socket.on('error', (error) => {
      if (!connected) reject(error);
      else resolve(1);
    });
    socket.on('close', () => {
      if (exitCode !== undefined) resolve(exitCode);
      else if (connected) {
        err('the server closed the admin connection before the command finished');
        resolve(1);
      }
    });
  });
}
