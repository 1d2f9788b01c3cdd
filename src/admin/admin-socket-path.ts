import { join } from 'node:path';

/**
 * Where a server on the embedded database listens for administrative commands: a unix socket in a
 * folder of the data directory that only its owner may enter (0700). Whoever can enter it can
 * already read the database files and the development signing key beside it, so the socket gives
 * no one anything they did not have; it is never a network port.
 */
export const adminSocketDir = (dataDir: string): string => join(dataDir, 'admin');
export const adminSocketPath = (dataDir: string): string => join(adminSocketDir(dataDir), 'cli.sock');

/** Longest unix socket path Linux and macOS accept (sun_path, with its terminating NUL). */
export const MAX_SOCKET_PATH = 103;

/** The messages: one JSON line each way per line of output, then the exit code. */
export type AdminRequest = { argv: string[] };
export type AdminReply = { out: string } | { err: string } | { code: number };
