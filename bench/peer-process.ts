// The PostGraphile peer in a process of its own, forked by bench/run.ts, so that its heap, its
// garbage and its CPU are its own, not mixed with those of the servers it is compared with (in the
// bench's process, whatever of its garbage was left fell on the next run's CPU). Moving it changed
// no ratio measurably by itself (docs/benchmarks.md, *What changed*, 17).
//
// Protocol (IPC): it sends `{ url }` once listening; it answers 'cpu' with `{ cpu }` (its
// process.cpuUsage()), and 'close' by closing the server and leaving.
import { loadOrCreateDevSigningKey } from '../src/auth/dev-signing-key.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';
import { loadConfig } from '../src/config/config.js';
import { startPostGraphilePeer } from './peer-postgraphile.js';

export interface PeerJob {
  databaseUrl: string;
  /** Where the bench keeps its development signing key: the peer verifies the same tokens. */
  keyDir: string;
}

export type PeerMessage = { url: string } | { cpu: NodeJS.CpuUsage };

const job = JSON.parse(process.argv[2] ?? '') as PeerJob;
// The same settings as the bench's own servers, so the same issuer, audience and tenant claim.
const config = loadConfig({
  PORT: '0',
  LOG_LEVEL: 'silent',
  NODE_ENV: 'production',
  ALLOW_DEV_SIGNING_KEY: 'true',
  DATABASE_URL: job.databaseUrl,
});
const devKey = await loadOrCreateDevSigningKey(job.keyDir);
const verifier = createTokenVerifier({ ...config.jwt, devKey });
const peer = await startPostGraphilePeer({ databaseUrl: job.databaseUrl, verifier, tenantClaim: config.jwt.tenantClaim });

const send = (message: PeerMessage) => process.send?.(message);
process.on('message', (message) => {
  if (message === 'cpu') send({ cpu: process.cpuUsage() });
  if (message === 'close') void peer.close().finally(() => process.exit(0));
});
// The bench gone (it ended, or failed) leaves no server behind.
process.on('disconnect', () => process.exit(0));
send({ url: peer.url });
