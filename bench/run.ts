// npm run bench — the price of isolation, as ratios against a baseline measured in the same run.
// See docs/benchmarks.md for what each workload means and the latest results.
import { execFile, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { formatPrismaCursor } from '@pothos/plugin-prisma';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createApp } from '../src/app.js';
import { loadOrCreateDevSigningKey } from '../src/auth/dev-signing-key.js';
import { issueDevToken } from '../src/auth/issue-token.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/create-database.js';
import { prepareDatabase } from '../src/db/prepare-database.js';
import { createTenantDb, createTenantDbs, tenantScope } from '../src/db/tenant-db.js';
import { createLogger } from '../src/observability/logger.js';
import { counterValue } from '../src/observability/metrics.js';
import { findRevocation } from '../src/tenancy/entitlement.js';
import { createTenantResolver } from '../src/tenancy/resolve-tenant.js';
import { currentTenant, runInTenant } from '../src/tenancy/tenant-context.js';
import { startPrivatePgBouncer } from '../test/helpers/private-pgbouncer.js';
import { type ServerProcess, startServerProcess } from '../test/helpers/server-process.js';
import { startBaselineServer } from './baseline-server.js';
import { isLocalDatabase, postgresCpuMs } from './database-cpu.js';
import type { LoadJob, LoadResult } from './load.js';
import { seedManyTenants } from './many-tenants.js';
import { asPostGraphile, asTenantgraph, body, NESTED_SHAPE, type Operation, TENANTGRAPH } from './operations.js';
import type { PeerJob, PeerMessage } from './peer-process.js';
import { BENCH_WRITE_TITLE, type BenchTenant, removeBenchWrites, seedBenchData, seedWideTenant } from './seed.js';
import type { SocketJob } from './socket-load.js';

const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 3);
/**
 * Rounds per workload. A light workload's single 3-s run strays by ±10–15% on these machines, and
 * the median of five such rounds still moved by ~5 points between back-to-back runs — more than the
 * gap the isolation target draws: the light workloads (viewer, point reads, writes; ~1 ms a request)
 * run nine rounds, the heavy ones (nested, mixed) five. BENCH_ROUNDS sets both.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LIGHT_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const databaseUrl = process.env.DATABASE_URL;
/**
 * BENCH_AA=1: the method checked on itself — a second baseline server in tenantgraph's place (its
 * rows keep tenantgraph's name), the HTTP workloads only. Every ratio should read 1.00×; how far
 * one strays is the noise and the bias of the order of runs.
 */
const AA = process.env.BENCH_AA === '1';

// BENCH_WORKLOADS=2,abuse runs only those (by the number or word their name starts with).
const only = process.env.BENCH_WORKLOADS?.split(',').map((name) => name.trim());
const selected = (name: string) => !only || only.some((prefix) => name.startsWith(prefix));

// What the selected workloads need from the machine, checked before anything runs: the pooler
// workload comes near the end, and a missing PgBouncer used to end a half-hour run with no table.
if (selected('pooler') && databaseUrl) {
  const found = await promisify(execFile)('pgbouncer', ['--version']).then(
    () => true,
    () => false,
  );
  if (!found) {
    console.error(
      'The pooler workload needs PgBouncer (Debian package pgbouncer); install it, or leave it out with BENCH_WORKLOADS.',
    );
    process.exit(1);
  }
}

let statements = 0;
/** Connections of the server's pool, and of the baseline's own (see `prepared` below). */
const POOL_SIZE = 20;
const database = await createDatabase(
  databaseUrl
    ? { databaseUrl, poolSize: POOL_SIZE, onStatement: () => statements++ }
    : { inMemory: true, onStatement: () => statements++ },
);
await prepareDatabase(database);
console.log(`database: ${databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite, in memory'}; seeding…`);
const tenants = await seedBenchData(database);

// DATABASE_URL also gives the server its heavy-query worker (PostgreSQL only), as in production.
const config = loadConfig({
  PORT: '0',
  LOG_LEVEL: 'silent',
  NODE_ENV: 'production',
  ALLOW_DEV_SIGNING_KEY: 'true',
  DATABASE_URL: databaseUrl,
});
/** The run's temporary folders, removed when it ends. */
const temporary: string[] = [];
const temporaryDir = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
// Kept in a folder so that the PostGraphile peer's own process verifies the same tokens.
const keyDir = await temporaryDir('tenantgraph-bench-key-');
const devKey = await loadOrCreateDevSigningKey(keyDir);
const verifier = createTokenVerifier({ ...config.jwt, devKey });
const app = createApp({ config, database, logger: createLogger('silent'), verifier });
// On PostgreSQL the baseline's statements are kept prepared too, as the server's (DATABASE_PREPARED_STATEMENTS
// is on for a direct connection): a driver-level saving, not part of what isolation costs.
const prepared = databaseUrl ? { databaseUrl, poolSize: POOL_SIZE, onStatement: () => statements++ } : undefined;
const isolated = AA ? await startBaselineServer({ config, database, verifier, prepared }) : await app.start(0, '127.0.0.1');
const baseline = await startBaselineServer({ config, database, verifier, prepared });
const tokens = new Map<string, string>();
// PostGraphile maps the tenant claim straight to app.tenant_id, so the peer's tokens carry the
// tenant's id where tenantgraph's carry its slug: same key, same user, same tenant.
const peerTokens = new Map<string, string>();
for (const tenant of tenants) {
  tokens.set(tenant.id, await issueDevToken(devKey, { ...config.jwt, userId: tenant.ownerId, tenant: tenant.slug, ttl: '2h' }));
  peerTokens.set(tenant.id, await issueDevToken(devKey, { ...config.jwt, userId: tenant.ownerId, tenant: tenant.id, ttl: '2h' }));
}
const tokenOf = (tenant: BenchTenant) => tokens.get(tenant.id) as string;
const peerTokenOf = (tenant: BenchTenant) => peerTokens.get(tenant.id) as string;
const [large, medium, small, tiny] = tenants as [BenchTenant, BenchTenant, BenchTenant, BenchTenant];
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;

// --- Workloads -------------------------------------------------------------------------------------

const NESTED = TENANTGRAPH.nested;
const POINT = TENANTGRAPH.point;
const UPDATE = TENANTGRAPH.update;

function pointReads(count: number): Operation[] {
  return Array.from({ length: count }, (_, index) => {
    const caller = pick(tenants);
    // One in four ids belongs to another tenant: the isolated server and the peer must answer null.
    const owner = index % 4 === 0 ? pick(tenants.filter((tenant) => tenant !== caller)) : caller;
    return { kind: 'point', caller, taskId: pick(owner.taskIds) };
  });
}

function writes(count: number): Operation[] {
  return Array.from({ length: count }, (_, index): Operation => {
    const caller = pick([large, medium, small]);
    return index % 2 === 0
      ? { kind: 'create', caller, projectId: pick(caller.projectIds), title: `${BENCH_WRITE_TITLE} ${index}` }
      : { kind: 'update', caller, taskId: pick(caller.taskIds), status: pick(['TODO', 'IN_PROGRESS', 'DONE'] as const) };
  });
}

/** Several tenants at once; the large one sends four requests in five (the noisy neighbour). */
function mixed(count: number): Operation[] {
  return Array.from({ length: count }, (_, index): Operation => {
    const caller = index % 5 === 4 ? pick([medium, small, tiny]) : large;
    return index % 3 === 0 ? { kind: 'nested', caller } : { kind: 'point', caller, taskId: pick(caller.taskIds) };
  });
}

interface Workload {
  name: string;
  /** Sent as they are to tenantgraph and the baseline, and in its own naming to the PostGraphile peer. */
  operations: Operation[];
  /**
   * Heavy requests (~40 ms of server CPU each) measured with few connections and for longer: with
   * 16 in flight at ~600 ms each, the requests straddling a 5-second window's edges moved the
   * count by ±10%.
   */
  connections?: number;
  durationSeconds?: number;
  /** Run once the workload is measured (the writes workload puts the data set back). */
  after?: () => Promise<void>;
  /** Rounds of each comparison (ROUNDS unless said). */
  rounds?: number;
}

const nestedWorkload: Workload = {
  name: '2 nested read 20×20',
  operations: [large, medium].map((caller): Operation => ({ kind: 'nested', caller })),
  connections: 4,
  durationSeconds: DURATION * 2,
};
const workloads: Workload[] = [
  {
    name: '1 viewer (context only)',
    operations: tenants.map((caller): Operation => ({ kind: 'viewer', caller })),
    rounds: LIGHT_ROUNDS,
  },
  nestedWorkload,
  { name: '3 point reads (¼ foreign ids)', operations: pointReads(500), rounds: LIGHT_ROUNDS },
  {
    name: '4 writes (create + update)',
    operations: writes(500),
    after: () => removeBenchWrites(database),
    rounds: LIGHT_ROUNDS,
  },
  { name: '5 mixed, one noisy tenant', operations: mixed(500) },
];

// --- The peer: PostGraphile 5 on the same tables and policies (PostgreSQL only) ------------------------

/**
 * PostGraphile in a process of its own (bench/peer-process.ts): its heap and garbage apart from the
 * servers it is compared with, and its CPU read from that process.
 */
async function startPeerProcess(job: PeerJob) {
  const child = fork('bench/peer-process.ts', [JSON.stringify(job)], { execArgv: ['--import', 'tsx'] });
  const next = <T>(pick: (message: PeerMessage) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: PeerMessage) => {
        const value = pick(message);
        if (value === undefined) return;
        child.off('message', onMessage).off('exit', onExit).off('error', onError);
        resolve(value);
      };
      const onExit = (code: number | null) => reject(new Error(`the PostGraphile peer's process ended (${code})`));
      // A fork that cannot start (or a message it cannot be sent) ends what waits on it, not the bench.
      const onError = (error: Error) => reject(new Error(`the PostGraphile peer's process failed: ${error.message}`));
      child.on('message', onMessage).once('exit', onExit).once('error', onError);
    });
  const url = await next((message) => ('url' in message ? message.url : undefined));
  return {
    url,
    /** The peer process's CPU so far. */
    cpuUsage() {
      const answer = next((message) => ('cpu' in message ? message.cpu : undefined));
      child.send('cpu');
      return answer;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
    },
  };
}

const peer = databaseUrl && process.env.BENCH_PEER !== 'off' ? await startPeerProcess({ databaseUrl, keyDir }) : undefined;
const PEER = 'PostGraphile 5 (peer)';

// --- Correctness before speed ------------------------------------------------------------------------

type Answer = { data?: Record<string, unknown> | null; errors?: unknown[] };
async function post(url: string, request: LoadJob['requests'][number]): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${request.token}` },
    body: request.body,
  });
  return (await response.json()) as Answer;
}
const one = (requests: LoadJob['requests'] | undefined) => requests?.[0] as LoadJob['requests'][number];
const failed = (what: string, answer: unknown) => new Error(`${what}: ${JSON.stringify(answer).slice(0, 300)}`);
type TaskNode = { id: string; title: string; status: string } | null;

if (peer) {
  for (const [index, tenant] of [large, medium].entries()) {
    const answer = (await post(peer.url, one(asPostGraphile([{ kind: 'nested', caller: tenant }], peerTokenOf)))) as {
      data?: { allProjects: { nodes: { tasksByTenantIdAndProjectId: { nodes: unknown[] } }[] } };
      errors?: unknown[];
    };
    const projects = answer.data?.allProjects.nodes ?? [];
    if (answer.errors || projects.length !== Math.min(20, tenant.projectIds.length)) {
      throw failed(`the PostGraphile peer did not answer the nested read (${index})`, answer);
    }
  }
}
// Point reads: the caller's own task comes back, another tenant's is null, on tenantgraph and on
// the peer; and the peer's row is the same row (same title and status) under its own node id.
// (An A/A run has no isolated server to check.)
for (const operation of AA ? [] : pointReads(40)) {
  if (operation.kind !== 'point') continue;
  const own = operation.caller.taskIds.includes(operation.taskId);
  const ours = await post(isolated.url, one(asTenantgraph([operation], tokenOf)));
  const node = ours.data?.node as TaskNode | undefined;
  if (ours.errors || node === undefined || (node === null) === own)
    throw failed(`isolation check failed for ${operation.taskId}`, ours);
  if (!peer) continue;
  const theirs = await post(peer.url, one(asPostGraphile([operation], peerTokenOf)));
  const peerNode = theirs.data?.node as TaskNode | undefined;
  if (theirs.errors || peerNode === undefined || (peerNode === null) !== (node === null)) {
    throw failed(`the peer's point read of ${operation.taskId} (${own ? 'own' : 'foreign'}) differs`, theirs);
  }
  if (peerNode && node && (peerNode.title !== node.title || peerNode.status !== node.status)) {
    throw failed(`the peer read another row than ours for ${operation.taskId}`, { ours: node, theirs: peerNode });
  }
}
// Writes on the peer: a create lands in the caller's tenant with the title asked (read back through
// its node id), an update sets the status asked, and a create naming another tenant is refused by
// RLS — the peer isolates writes, so its writes are the same work as ours.
if (peer) {
  for (const caller of [large, medium, small]) {
    const create = { kind: 'create', caller, projectId: pick(caller.projectIds), title: `${BENCH_WRITE_TITLE} check` } as const;
    const update = { kind: 'update', caller, taskId: pick(caller.taskIds), status: 'IN_PROGRESS' } as const;
    const created = await post(peer.url, one(asPostGraphile([create], peerTokenOf)));
    const createdId = (created.data?.createTask as { task?: { id?: string } } | undefined)?.task?.id;
    const [typeName, rowId] = createdId ? (JSON.parse(Buffer.from(createdId, 'base64').toString('utf8')) as string[]) : [];
    const readBack = rowId
      ? await post(peer.url, one(asPostGraphile([{ kind: 'point', caller, taskId: rowId }], peerTokenOf)))
      : {};
    if (created.errors || typeName !== 'Task' || (readBack.data?.node as TaskNode | undefined)?.title !== create.title) {
      throw failed(`the peer's createTask for ${caller.slug}`, { created, readBack });
    }
    const updated = await post(peer.url, one(asPostGraphile([update], peerTokenOf)));
    if (updated.errors || (updated.data?.updateTask as { task?: TaskNode } | undefined)?.task?.status !== update.status) {
      throw failed(`the peer's updateTask for ${caller.slug}`, updated);
    }
    const stranger = tenants.find((tenant) => tenant !== caller) as BenchTenant;
    const intruding = await post(
      peer.url,
      one(asPostGraphile([{ ...create, caller: stranger, projectId: pick(stranger.projectIds) }], () => peerTokenOf(caller))),
    );
    // Refused by RLS's WITH CHECK, not by anything else.
    if (!JSON.stringify(intruding.errors ?? '').includes('row-level security') || intruding.data?.createTask)
      throw failed(`the peer let ${caller.slug} write as another tenant`, intruding);
  }
}
// Every HTTP workload that runs: its first requests answer without errors on every server (a
// GraphQL error comes back with status 200, which the load generator would count as served).
for (const workload of workloads.filter((candidate) => selected(candidate.name))) {
  const sample = workload.operations.slice(0, 20);
  const targets: [string, LoadJob['requests'] | undefined][] = [
    [baseline.url, asTenantgraph(sample, tokenOf)],
    [isolated.url, asTenantgraph(sample, tokenOf)],
    ...(peer ? [[peer.url, asPostGraphile(sample, peerTokenOf)] as [string, LoadJob['requests'] | undefined]] : []),
  ];
  for (const [url, requests] of targets) {
    for (const request of requests ?? []) {
      const answer = await post(url, request);
      if (answer.errors || !answer.data) throw failed(`${workload.name} on ${url}`, answer);
    }
  }
}
await removeBenchWrites(database);

// --- Load ------------------------------------------------------------------------------------------

const run = promisify(execFile);
/** The database's CPU so far, where this machine runs it (see Row.databaseCpuPerRequestMs). */
const databaseCpuMs = databaseUrl && isLocalDatabase(databaseUrl) ? postgresCpuMs : () => undefined;
const jobDir = await temporaryDir('tenantgraph-bench-');
async function drive(
  url: string,
  requests: LoadJob['requests'],
  durationSeconds = DURATION,
  connections = CONNECTIONS,
  /** What the load generator runs under (an attacker's: `attackerCommand`). */
  prefix: string[] = [],
): Promise<LoadResult> {
  const job: LoadJob = { url, durationSeconds, connections, requests };
  const jobFile = join(jobDir, `job-${randomUUID()}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const [file, ...args] = [...prefix, process.execPath, '--import', 'tsx', 'bench/load.ts', jobFile];
  const { stdout } = await run(file as string, args, { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as LoadResult;
}

interface Row {
  workload: string;
  server: string;
  result: LoadResult;
  /** Unknown for the peer, whose statements Prisma does not see. */
  statementsPerRequest?: number;
  /**
   * The server's process's CPU per request while it was loaded — this one for the baseline and
   * tenantgraph, its own for the peer; the load generator is another process: steadier than req/s
   * on these machines, and it leaves PostgreSQL out.
   */
  cpuPerRequestMs?: number;
  /**
   * PostgreSQL's CPU per request while the server was loaded (every postgres process on this
   * machine): the database's share of a request, which req/s includes and the server's CPU leaves
   * out. Unknown on the embedded database (it is in the server's process) or a remote one.
   */
  databaseCpuPerRequestMs?: number;
  ratio?: number;
  /** The lowest and highest of the rounds' ratios. */
  ratioRange?: [number, number];
  /**
   * The baseline's server CPU per request against tenantgraph's (requests per CPU second, as req/s
   * is requests per second: ≥ 0.90× is the target for both): the median round's, and the range.
   * Per round, like req/s: over the whole run, the machine's drift between rounds moved the mean
   * CPU per request by more than isolation costs.
   */
  cpuRatio?: number;
  cpuRatioRange?: [number, number];
  /** tenantgraph's req/s against the PostGraphile peer's: the median round's, and the range. */
  peerRatio?: number;
  peerRatioRange?: [number, number];
}
/**
 * Whichever server is measured first in a workload comes out slower on these machines (viewer:
 * 0.5× one way round, 1.5× the other, for the same work), and the machine's speed drifts by ±15%
 * over minutes. So after all are warmed, each workload runs its rounds (ROUNDS, LIGHT_ROUNDS) of baseline,
 * tenantgraph, tenantgraph, baseline — and where the PostGraphile peer runs it, then as many rounds of
 * tenantgraph, peer, peer, tenantgraph; a round's ratio compares its two runs per server, and the
 * reported ratio is the median round's (with the range beside it). In such a sequence each of the
 * two servers follows itself once and the other once per round. A run also depends on what ran
 * just before it: mixing the three in one round (baseline, tenantgraph, peer, peer, tenantgraph,
 * baseline, or the two pairs one after the other) gave one server more runs after itself, or after
 * the peer, than the other, and the baseline measured against itself read from 0.95× to 1.10×
 * (docs/benchmarks.md, *What changed*, 17).
 */
function combine(results: LoadResult[]): LoadResult {
  const mean = (pick: (result: LoadResult) => number) => results.reduce((sum, result) => sum + pick(result), 0) / results.length;
  return {
    requests: mean((result) => result.requests),
    requestsPerSecond: mean((result) => result.requestsPerSecond),
    p50: Math.round(mean((result) => result.p50)),
    p99: Math.round(mean((result) => result.p99)),
    errors: mean((result) => result.errors),
    non2xx: mean((result) => result.non2xx),
  };
}

/** What every table reports of its rounds' ratios: the median round's, and the range of all. */
function medianRound(ratios: number[]): { ratio: number; range: [number, number] } {
  return { ratio: median(ratios), range: [Math.min(...ratios), Math.max(...ratios)] };
}

function median(values: number[]): number {
  return [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;
}

/** One round run A, B, B, A: B's req/s and p99 against A's. */
function roundOf(results: LoadResult[]): { throughput: number; p99: number } {
  const [a1, b1, b2, a2] = results as [LoadResult, LoadResult, LoadResult, LoadResult];
  return {
    throughput: (b1.requestsPerSecond + b2.requestsPerSecond) / (a1.requestsPerSecond + a2.requestsPerSecond),
    p99: (b1.p99 + b2.p99) / (a1.p99 + a2.p99),
  };
}

/** A server as the load sees it: its name in the table, its URL, and the requests it is sent. */
type Served = [name: string, url: string, requests: LoadJob['requests']];

const rows: Row[] = [];
for (const workload of workloads.filter((candidate) => selected(candidate.name))) {
  const duration = workload.durationSeconds ?? DURATION;
  const connections = workload.connections ?? CONNECTIONS;
  const requests = asTenantgraph(workload.operations, tokenOf);
  const peerRequests = peer && asPostGraphile(workload.operations, peerTokenOf);
  const plain: Served = ['baseline', baseline.url, requests];
  const ours: Served = ['tenantgraph', isolated.url, requests];
  const theirs: Served | undefined = peer && peerRequests ? [PEER, peer.url, peerRequests] : undefined;
  const servers: Served[] = [plain, ours, ...(theirs ? [theirs] : [])];
  // Each pair measured in its own rounds of A, B, B, A: isolation (baseline against
  // tenantgraph), then the peer's (tenantgraph against PostGraphile).
  const pairs: [Served, Served][] = [[plain, ours], ...(theirs ? [[ours, theirs] as [Served, Served]] : [])];
  for (const [, url, sent] of servers) await drive(url, sent, 2, connections); // warm-up: JIT, pools, caches
  const runs = new Map<string, { results: LoadResult[]; statements: number; cpuMs: number; databaseMs?: number }>();
  const roundRatios: number[] = [];
  const cpuRoundRatios: number[] = [];
  const peerRoundRatios: number[] = [];
  for (const pair of pairs) {
    for (let round = 0; round < (workload.rounds ?? ROUNDS); round++) {
      /** Each server's two runs in this round: req/s summed, CPU and requests summed. */
      const inPair = new Map<string, { requestsPerSecond: number; cpuMs: number; requests: number }>();
      for (const [server, url, sent] of [...pair, ...[...pair].reverse()]) {
        statements = 0;
        // The peer's CPU is its own process's; the baseline's and tenantgraph's, this one's.
        const cpuNow = server === PEER && peer ? () => peer.cpuUsage() : async () => process.cpuUsage();
        const cpuBefore = await cpuNow();
        const databaseBefore = databaseCpuMs();
        const result = await drive(url, sent, duration, connections);
        const databaseAfter = databaseCpuMs();
        const cpuAfter = await cpuNow();
        const cpuMs = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / 1000;
        if (result.errors > 0 || result.non2xx > 0) throw new Error(`${workload.name} on ${server}: ${result.non2xx} non-2xx`);
        const run = runs.get(server) ?? { results: [], statements: 0, cpuMs: 0, databaseMs: 0 };
        run.results.push(result);
        run.statements += statements;
        run.cpuMs += cpuMs;
        run.databaseMs =
          run.databaseMs === undefined || databaseBefore === undefined || databaseAfter === undefined
            ? undefined
            : run.databaseMs + databaseAfter - databaseBefore;
        runs.set(server, run);
        const sum = inPair.get(server) ?? { requestsPerSecond: 0, cpuMs: 0, requests: 0 };
        inPair.set(server, {
          requestsPerSecond: sum.requestsPerSecond + result.requestsPerSecond,
          cpuMs: sum.cpuMs + cpuMs,
          requests: sum.requests + result.requests,
        });
      }
      const of = (server: string) => inPair.get(server) as { requestsPerSecond: number; cpuMs: number; requests: number };
      const cpuPerRequest = (server: string) => of(server).cpuMs / of(server).requests;
      if (inPair.has(PEER)) peerRoundRatios.push(of('tenantgraph').requestsPerSecond / of(PEER).requestsPerSecond);
      else {
        roundRatios.push(of('tenantgraph').requestsPerSecond / of('baseline').requestsPerSecond);
        cpuRoundRatios.push(cpuPerRequest('baseline') / cpuPerRequest('tenantgraph'));
      }
    }
  }
  const [, ourRow] = servers.map(([server]) => {
    const run = runs.get(server) as { results: LoadResult[]; statements: number; cpuMs: number; databaseMs?: number };
    const total = run.results.reduce((sum, result) => sum + result.requests, 0);
    const row: Row = {
      workload: workload.name,
      server,
      result: combine(run.results),
      statementsPerRequest: server === PEER ? undefined : run.statements / total,
      cpuPerRequestMs: run.cpuMs / total,
      databaseCpuPerRequestMs: run.databaseMs === undefined ? undefined : run.databaseMs / total,
    };
    rows.push(row);
    return row;
  }) as [Row, Row];
  const median = medianRound(roundRatios);
  ourRow.ratio = median.ratio;
  ourRow.ratioRange = median.range;
  const cpuMedian = medianRound(cpuRoundRatios);
  ourRow.cpuRatio = cpuMedian.ratio;
  ourRow.cpuRatioRange = cpuMedian.range;
  if (peerRoundRatios.length > 0) {
    const againstPeer = medianRound(peerRoundRatios);
    ourRow.peerRatio = againstPeer.ratio;
    ourRow.peerRatioRange = againstPeer.range;
  }
  await workload.after?.();
}

if (AA) {
  console.log(
    `\nA/A run ${new Date().toISOString()}, Node ${process.version}: a second baseline in tenantgraph's rows.\n\n${httpTable().join('\n')}\n`,
  );
  await peer?.close();
  process.exit(0);
}

/** A full garbage collection, for memory measures. */
const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

// --- Abuse: a quiet tenant while others attack --------------------------------------------------------

/**
 * The quiet tenant's p99 while an anonymous client streams 16 MB documents, another tenant sends
 * the most expensive read the cost limit allows, and both at once, against its p99 alone: ABBA over
 * ABUSE_ROUNDS rounds, the median round's ratio. Everything runs on tenantgraph; the attackers' own
 * answers (401s, large pages) are not counted.
 */
const ABUSE_ROUNDS = Number(process.env.BENCH_ABUSE_ROUNDS ?? 5);
/**
 * Where the abuse workload's processes run. A deployment's attackers are on machines of their own;
 * here they shared the server's 2 cores, and their own work — writing 16 MB bodies, the kernel's
 * loopback copies of them (done in the sender's system calls, which no nice value lowers), reading
 * the costliest read's large answers — was counted against the server: the control row, where
 * nothing of the server is involved, read 1.6–1.7×. So on a machine with ≥ 2 cores and taskset the
 * attackers (and the control's refusing process, which stands for a server elsewhere) get the last
 * core, at the lowest priority, and the server process the others, for the whole abuse workload —
 * alone and attacked alike; PostgreSQL and the quiet tenant's client run where the scheduler puts
 * them. (Measured with the server allowed on every core too: the attackers' system-call work then
 * delays it there, 1.6× for the flood with a control at 1.2×.) BENCH_ABUSE_CORES=shared puts every
 * process on any core, as before.
 */
const abuseCores = await (async () => {
  const count = cpus().length;
  const hasTaskset = await run('taskset', ['-p', String(process.pid)]).then(
    () => true,
    () => false,
  );
  return {
    split: process.env.BENCH_ABUSE_CORES !== 'shared' && count >= 2 && hasTaskset,
    attackers: String(count - 1),
    server: count > 2 ? `0-${count - 2}` : '0',
    all: `0-${count - 1}`,
  };
})();
/** Sets the CPUs every thread of process `pid` may run on. */
async function pin(pid: number, cores: string) {
  await run('taskset', ['-a', '-p', '-c', cores, String(pid)]);
}
/** What an attacker's process runs under: the lowest CPU priority, on the attackers' core when split. */
const attackerCommand = [...(abuseCores.split ? ['taskset', '-c', abuseCores.attackers] : []), 'nice', '-n', '19'];
const EXPENSIVE = '{ projects(first: 100) { edges { node { id name tasks(first: 100) { edges { node { id title } } } } } } }';
const quietRequests = Array.from({ length: 200 }, () => ({
  token: tokenOf(tiny),
  body: body(POINT, { id: encodeGlobalID('Task', pick(tiny.taskIds)) }),
}));
/**
 * The anonymous client: 16 MB bodies with no token, from bench/flood.ts at the lowest CPU priority
 * (its body is built once; a general load generator builds it again per request, and on these 2
 * cores that CPU was counted against the server). Fails if the server answered none of it.
 */
async function flood(url: string, durationSeconds: number, connections: number) {
  const flooder = [process.execPath, '--import', 'tsx', 'bench/flood.ts', url, String(durationSeconds), String(connections)];
  const [file, ...args] = [...attackerCommand, ...flooder];
  const { stdout } = await run(file as string, args, { maxBuffer: 1 << 20 });
  const { sent, answered } = JSON.parse(stdout) as { sent: number; answered: number };
  // A refusal can be lost to the reset that the unread body causes: some answered is the proof.
  if (sent === 0 || answered === 0) throw new Error(`abuse: the flood sent ${sent} documents, ${answered} were answered`);
  floodRates.push(sent / durationSeconds);
}
/** Documents per second each flood sent, in the scenario being measured. */
let floodRates: number[] = [];
const expensiveRequests = [{ token: tokenOf(large), body: body(EXPENSIVE) }];
interface AbuseRow {
  attack: string;
  /** Anonymous documents sent per second, when the attack has a flood. */
  floodPerSecond?: number;
  alone: number;
  attacked: number;
  ratio: number;
  range: [number, number];
}
const abuseRows: AbuseRow[] = [];
if (selected('abuse')) {
  const answer = (await post(isolated.url, expensiveRequests[0] as LoadJob['requests'][number])) as {
    data?: { projects: { edges: unknown[] } };
    errors?: unknown[];
  };
  if (answer.errors || answer.data?.projects.edges.length !== 100) {
    throw new Error(`the most expensive allowed read was not answered: ${JSON.stringify(answer).slice(0, 300)}`);
  }
  const quietly = async () => {
    const result = await drive(isolated.url, quietRequests, DURATION, 4);
    if (result.errors > 0 || result.non2xx > 0) throw new Error(`abuse: the quiet tenant got ${result.non2xx} non-2xx`);
    return result.p99;
  };
  // The control: the same flood aimed at another process that refuses it the same way, so the row
  // shows what the attacker's own CPU takes from this 2-core machine, apart from the server's share.
  // It stands for a server on another machine: it runs as the attackers do (their core, nice 19).
  const [sinkFile, ...sinkArgs] = [...attackerCommand, process.execPath, '--import', 'tsx', 'bench/refusing-sink.ts'];
  const sink = spawn(sinkFile as string, sinkArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const sinkUrl = await new Promise<string>((resolve, reject) => {
    sink.once('message', (url) => resolve(String(url)));
    sink.on('error', (error) => reject(new Error(`the refusing process failed: ${error.message}`)));
    sink.once('exit', (code) => reject(new Error(`the refusing process ended (${code})`)));
  });
  if (abuseCores.split) await pin(process.pid, abuseCores.server);
  const attackers = {
    anonymous: () => flood(isolated.url, DURATION + 1, 2),
    elsewhere: () => flood(sinkUrl, DURATION + 1, 2),
    costliest: () => drive(isolated.url, expensiveRequests, DURATION + 1, 2, attackerCommand),
  };
  const scenarios: [string, (keyof typeof attackers)[]][] = [
    ['(control) anonymous 16 MB documents sent to another process', ['elsewhere']],
    ['anonymous 16 MB documents', ['anonymous']],
    ['the costliest allowed read', ['costliest']],
    ['both at once', ['anonymous', 'costliest']],
  ];
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  await quietly(); // warm-up
  for (const [attack, kinds] of scenarios) {
    const underAttack = async () => {
      const attacks = kinds.map((kind) => attackers[kind]());
      await new Promise((resolve) => setTimeout(resolve, 500));
      const p99 = await quietly();
      await Promise.all(attacks);
      return p99;
    };
    const alone: number[] = [];
    const attacked: number[] = [];
    const ratios: number[] = [];
    floodRates = [];
    for (let round = 0; round < ABUSE_ROUNDS; round++) {
      const first = await quietly();
      const second = await underAttack();
      const third = await underAttack();
      const fourth = await quietly();
      alone.push(first, fourth);
      attacked.push(second, third);
      ratios.push((second + third) / (first + fourth));
    }
    abuseRows.push({
      attack,
      alone: mean(alone),
      attacked: mean(attacked),
      ...medianRound(ratios),
      ...(floodRates.length > 0 ? { floodPerSecond: mean(floodRates) } : {}),
    });
  }
  sink.kill();
  if (abuseCores.split) await pin(process.pid, abuseCores.all);
}

// --- A page's cost against the data behind it ------------------------------------------------------

/**
 * The same pages read on bench-large (20 tasks per project) and on bench-wide (1,000 per project):
 * rounds large, wide, wide, large on the isolated server; the ratio of wide's req/s to large's, the
 * median round's. A page whose cost does not grow with the rows behind it reads 1.00×. Two pages:
 * the nested read of workload 2, and page 2 of one project's tasks (a cursor inside a nested
 * connection, which Prisma cannot express as a join and loads as separate statements).
 */
interface PageRow {
  page: string;
  ratio: number;
  range: [number, number];
  statements: { large: number; wide: number };
}
const pageRows: PageRow[] = [];
if (selected('page')) {
  const wide = await seedWideTenant(database);
  tokens.set(wide.id, await issueDevToken(devKey, { ...config.jwt, userId: wide.ownerId, tenant: wide.slug, ttl: '2h' }));
  const PAGE_TWO = `query($id: ID!, $after: String) { project(id: $id) { tasks(first: 10, after: $after) { edges { node {
    title assignee { name } comments { totalCount } } } } } }`;
  const pageTwoOf = async (tenant: BenchTenant) => {
    const projectId = tenant.projectIds[0] as string;
    const [tenth] = await database.sql.query<{ id: string }>(
      'SELECT id FROM tasks WHERE project_id = $1 ORDER BY created_at, id OFFSET 9 LIMIT 1',
      [projectId],
    );
    return body(PAGE_TWO, { id: encodeGlobalID('Project', projectId), after: formatPrismaCursor({ id: tenth?.id }, 'id') });
  };
  const pages: [string, (tenant: BenchTenant) => Promise<string>][] = [
    ['nested read 20×20 (workload 2)', async () => body(NESTED)],
    ['page 2 of a project’s tasks (nested cursor)', pageTwoOf],
  ];
  for (const [page, make] of pages) {
    const requestsOf = async (tenant: BenchTenant) => [{ token: tokenOf(tenant), body: await make(tenant) }];
    const onLarge = await requestsOf(large);
    const onWide = await requestsOf(wide);
    const statementsOf = async (requests: LoadJob['requests']) => {
      const before = statements;
      const response = await fetch(isolated.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${requests[0]?.token}` },
        body: requests[0]?.body,
      });
      const answer = (await response.json()) as { errors?: unknown };
      if (answer.errors) throw new Error(`${page}: ${JSON.stringify(answer.errors)}`);
      return statements - before;
    };
    // A tenant's first request (or one after its registry answer expired) also looks it up.
    await statementsOf(onLarge);
    await statementsOf(onWide);
    const counted = { large: await statementsOf(onLarge), wide: await statementsOf(onWide) };
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const results: LoadResult[] = [];
      for (const requests of [onLarge, onWide, onWide, onLarge])
        results.push(await drive(isolated.url, requests, DURATION * 2, 4));
      ratios.push(roundOf(results).throughput);
    }
    pageRows.push({ page, ...medianRound(ratios), statements: counted });
  }
}

// --- Behind a transaction pooler ---------------------------------------------------------------------

/**
 * Point reads (workload 3's requests) against two server processes on the same database, one
 * connected directly and one through a PgBouncer of its own in transaction mode (LISTEN and
 * migrations on the direct URL): rounds direct, pooled, pooled, direct; the ratio of pooled req/s to
 * direct, the median round's, and every error.
 */
let poolerRow: { ratio: number; range: [number, number]; errors: number } | undefined;
if (selected('pooler') && databaseUrl) {
  const upstream = new URL(databaseUrl);
  const bouncer = await startPrivatePgBouncer({ host: upstream.hostname, port: Number(upstream.port || 5432) });
  const dataDir = await temporaryDir('tenantgraph-pooler-');
  const key = await loadOrCreateDevSigningKey(dataDir);
  const servers = await Promise.all([
    startServerProcess({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }),
    startServerProcess({ DATABASE_URL: bouncer.urlOf(databaseUrl), DIRECT_DATABASE_URL: databaseUrl, DATA_DIR: dataDir }),
  ]);
  try {
    const [direct, pooled] = servers as [ServerProcess, ServerProcess];
    const ownTokens = new Map<string, string>();
    for (const tenant of tenants) {
      ownTokens.set(
        tenant.id,
        await issueDevToken(key, { ...config.jwt, userId: tenant.ownerId, tenant: tenant.slug, ttl: '2h' }),
      );
    }
    const requests = asTenantgraph(pointReads(500), (tenant) => ownTokens.get(tenant.id) as string);
    await drive(direct.url, requests, 2);
    await drive(pooled.url, requests, 2);
    const ratios: number[] = [];
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const results: LoadResult[] = [];
      for (const server of [direct, pooled, pooled, direct]) {
        const result = await drive(server.url, requests);
        errors += result.errors + result.non2xx;
        results.push(result);
      }
      ratios.push(roundOf(results).throughput);
    }
    poolerRow = { ...medianRound(ratios), errors };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await bouncer.destroy();
  }
}

// --- Many tenants: the long tail ---------------------------------------------------------------------

/**
 * The same requests spread over 20 tenants and over MANY_TENANTS (2,000 and 10,000 small tenants:
 * an owner, 3 projects, a task each), rounds of 20, N, N, 20; the ratio of N's req/s and p99 to
 * 20's, the median round's. A server whose cost does not grow with the number of active tenants
 * reads 1.00×. The server runs as its own process, started as `npm start` starts it (production
 * mode, PostgreSQL), so that its RSS is its own; registry lookups are counted by PostgreSQL (index
 * scans of `tenants`, which no tenant statement of these workloads touches).
 */
const MANY_TENANTS = (process.env.BENCH_MANY_TENANTS ?? '2000,10000').split(',').map(Number);
interface ManyRow {
  tenants: number;
  workload: string;
  ratio: number;
  range: [number, number];
  p99Ratio: number;
  registryPerRequest: number;
}
const manyRows: ManyRow[] = [];
const manyRss: { tenants: number; rssMb: number }[] = [];
if (selected('many') && databaseUrl) {
  const smallTenants = await seedManyTenants(database, Math.max(...MANY_TENANTS));
  const dataDir = await temporaryDir('tenantgraph-many-');
  const serverKey = await loadOrCreateDevSigningKey(dataDir);
  const server = await startServerProcess({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }, { inspect: true });
  const rssMb = async () => {
    await server.collectGarbage();
    const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  };
  const registryLookups = async () => {
    // PostgreSQL publishes a backend's counters at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [row] = await database.sql.query<{ scans: string }>(
      "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS scans FROM pg_stat_user_tables WHERE relname = 'tenants'",
    );
    return Number(row?.scans ?? 0);
  };
  try {
    manyRss.push({ tenants: 0, rssMb: await rssMb() });
    const manyTokens: string[] = [];
    for (const tenant of smallTenants) {
      manyTokens.push(await issueDevToken(serverKey, { ...config.jwt, userId: tenant.ownerId, tenant: tenant.slug, ttl: '2h' }));
    }
    const SMALL_NESTED = '{ projects(first: 3) { edges { node { id name tasks(first: 3) { edges { node { id title } } } } } } }';
    const manyWorkloads: [string, (index: number) => string][] = [
      ['point reads', (index) => body(POINT, { id: encodeGlobalID('Task', smallTenants[index]?.taskId ?? '') })],
      ['nested read 3×3', () => body(SMALL_NESTED)],
      [
        'writes (updateTask)',
        (index) =>
          body(UPDATE, {
            input: { id: encodeGlobalID('Task', smallTenants[index]?.taskId ?? ''), status: pick(['TODO', 'DONE']) },
          }),
      ],
    ];
    const over = (count: number, make: (index: number) => string) =>
      Array.from({ length: Math.max(count, 2_000) }, (_, i) => {
        const index = i % count;
        return { token: manyTokens[index] as string, body: make(index) };
      });
    for (const count of MANY_TENANTS) {
      for (const [workload, make] of manyWorkloads) {
        const few = over(20, make);
        const many = over(count, make);
        await drive(server.url, many, 2); // warm-up: every tenant once
        const ratios: number[] = [];
        const p99Ratios: number[] = [];
        let lookups = 0;
        let manyRequests = 0;
        for (let round = 0; round < Math.max(3, Math.floor(ROUNDS / 2)); round++) {
          const results: LoadResult[] = [];
          for (const requests of [few, many, many, few]) {
            const before = requests === many ? await registryLookups() : 0;
            const result = await drive(server.url, requests);
            if (result.errors > 0 || result.non2xx > 0) throw new Error(`many tenants, ${workload}: ${result.non2xx} non-2xx`);
            if (requests === many) {
              lookups += (await registryLookups()) - before;
              manyRequests += result.requests;
            }
            results.push(result);
          }
          const { throughput, p99 } = roundOf(results);
          ratios.push(throughput);
          p99Ratios.push(p99);
        }
        manyRows.push({
          tenants: count,
          workload,
          ...medianRound(ratios),
          p99Ratio: median(p99Ratios),
          registryPerRequest: lookups / manyRequests,
        });
      }
      manyRss.push({ tenants: count, rssMb: await rssMb() });
    }
  } finally {
    await server.stop();
  }
}

// --- Micro-measures ---------------------------------------------------------------------------------

const resolveTenant = createTenantResolver({ verifier, registry: app.registry, tenantClaim: config.jwt.tenantClaim });
const authorization = `Bearer ${tokenOf(large)}`;
// Start from freshly loaded registry entries, then resolve well within one TTL window (5 s): a warm
// request must make no registry query at all.
app.registry.invalidateTenant(large.id);
const resolved = await resolveTenant({ authorization, tenantHeader: null, requestId: 'bench' });
const registryQueriesBefore = counterValue('registry_query');
const contextTimes: number[] = [];
for (let i = 0; i < 5_000; i++) {
  const started = process.hrtime.bigint();
  await resolveTenant({ authorization, tenantHeader: null, requestId: 'bench' });
  contextTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
}
const registryQueriesWarm = counterValue('registry_query') - registryQueriesBefore;
contextTimes.sort((x, y) => x - y);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

const recheckRuns = 200_000;
const recheckStarted = process.hrtime.bigint();
for (let i = 0; i < recheckRuns; i++) await findRevocation(app.registry, resolved.context, resolved.expiresAt);
const recheckMicros = Number(process.hrtime.bigint() - recheckStarted) / 1e3 / recheckRuns;

// --- Subscriptions ---------------------------------------------------------------------------------

interface Delivered {
  received: number;
  /** Events the slowest subscriber has. */
  slowest: number;
  /** Subscriptions that have ended. */
  ended: number;
}

async function withSockets<T>(job: SocketJob, work: (delivered: () => Delivered) => Promise<T>): Promise<T> {
  const child = fork('bench/socket-load.ts', { execArgv: ['--import', 'tsx'] });
  let delivered: Delivered = { received: 0, slowest: 0, ended: 0 };
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean } & Partial<Delivered>) => {
      if (message.ready) resolve();
      if (message.received !== undefined) delivered = message as Delivered;
    });
    // A socket process that cannot start, or ends before it is ready, fails this measure with a reason.
    child.on('error', (error) => reject(new Error(`the socket process failed: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`the socket process ended (${code})`)));
  });
  child.send(job);
  await ready;
  try {
    return await work(() => delivered);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    }
  }
}

const SUBSCRIBERS = 50;
const EVENTS = 2_000;
const EVENTS_WITH_READS = 400;
const subscriptionProject = large.projectIds[0] as string;
/**
 * Events per second to SUBSCRIBERS subscribers of one project, each message re-checked. DELETED
 * events resolve without SQL (the pipeline alone); UPDATED events read the task through the
 * subscriber's tenant client, one statement per subscriber per event.
 */
async function deliver(kind: 'DELETED' | 'UPDATED', events: number) {
  return withSockets(
    {
      mode: 'subscribe',
      url: isolated.url,
      token: tokenOf(large),
      projectId: encodeGlobalID('Project', subscriptionProject),
      count: SUBSCRIBERS,
    },
    async (delivered) => {
      let published = 0;
      statements = 0;
      const started = performance.now();
      // Keep the slowest subscriber at most 50 events behind, well inside its SUBSCRIPTION_BUFFER.
      while (delivered().received < events * SUBSCRIBERS) {
        if (delivered().ended > 0) throw new Error(`${delivered().ended} subscriptions ended before all ${kind} events arrived`);
        while (published < events && published - delivered().slowest < 50) {
          app.pubsub.publish({
            type: 'task',
            tenantId: large.id,
            projectId: subscriptionProject,
            taskId: kind === 'DELETED' ? randomUUID() : pick(large.taskIds),
            kind,
          });
          published++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const seconds = (performance.now() - started) / 1000;
      return { perSecond: (events * SUBSCRIBERS) / seconds, statementsPerEvent: statements / (events * SUBSCRIBERS) };
    },
  );
}
const delivery = await deliver('DELETED', EVENTS);
const deliveryWithReads = await deliver('UPDATED', EVENTS_WITH_READS);

const IDLE_SOCKETS = 500;
const memoryNow = () => {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};
const memoryBefore = memoryNow();
const idleBytes = await withSockets({ mode: 'idle', url: isolated.url, token: tokenOf(large), count: IDLE_SOCKETS }, async () => {
  return (memoryNow() - memoryBefore) / IDLE_SOCKETS;
});

// Subscriptions over many tenants: 1,000 tenants with one subscriber each against 10 tenants with
// 100 each, the same 1,000 subscribers and the same 20 UPDATED events per subscriber (each read
// through a client leased for that message). Shapes alternate, 10×100 first; events per second
// delivered and heap (+ external) per subscriber while subscribed.
const manySubscriptions: { shape: string; perSecond: number[]; bytesPerSubscriber: number[] }[] = [];
if (selected('many') && databaseUrl) {
  const crowd = await seedManyTenants(database, 1_000);
  const EVENTS_PER_SUBSCRIBER = 20;
  const shapes = [
    { shape: '10 tenants × 100 subscribers', tenants: crowd.slice(0, 10), perTenant: 100 },
    { shape: '1,000 tenants × 1 subscriber', tenants: crowd, perTenant: 1 },
  ];
  const subscriberTokens = new Map<string, string>();
  for (const tenant of crowd) {
    subscriberTokens.set(
      tenant.id,
      await issueDevToken(devKey, { ...config.jwt, userId: tenant.ownerId, tenant: tenant.slug, ttl: '2h' }),
    );
  }
  for (const round of [0, 1, 2, 3]) {
    const { shape, tenants: shapeTenants, perTenant } = shapes[round % 2] as (typeof shapes)[number];
    const subscribers = shapeTenants.flatMap((tenant) =>
      Array.from({ length: perTenant }, () => ({
        token: subscriberTokens.get(tenant.id) as string,
        projectId: encodeGlobalID('Project', tenant.projectId),
      })),
    );
    const before = memoryNow();
    const measured = await withSockets({ mode: 'subscribe', url: isolated.url, subscribers }, async (delivered) => {
      const heldBytes = (memoryNow() - before) / subscribers.length;
      let rounds = 0;
      const started = performance.now();
      while (delivered().received < EVENTS_PER_SUBSCRIBER * subscribers.length) {
        if (delivered().ended > 0) throw new Error(`${delivered().ended} subscriptions ended early (${shape})`);
        // One event per tenant per round; at most 10 rounds ahead of the slowest subscriber.
        while (rounds < EVENTS_PER_SUBSCRIBER && rounds - delivered().slowest < 10) {
          for (const tenant of shapeTenants) {
            app.pubsub.publish({
              type: 'task',
              tenantId: tenant.id,
              projectId: tenant.projectId,
              taskId: tenant.taskId,
              kind: 'UPDATED',
            });
          }
          rounds++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return { perSecond: (EVENTS_PER_SUBSCRIBER * subscribers.length) / ((performance.now() - started) / 1000), heldBytes };
    });
    let row = manySubscriptions.find((entry) => entry.shape === shape);
    if (!row) {
      row = { shape, perSecond: [], bytesPerSubscriber: [] };
      manySubscriptions.push(row);
    }
    row.perSecond.push(measured.perSecond);
    row.bytesPerSubscriber.push(measured.heldBytes);
  }
}

// One statement, sequential, in-process: where a tenant statement's time goes (wall and CPU), by
// layer — the baseline's plain `findUnique`; the plain client given the very arguments the tenant
// client sends (its predicate, as Prisma runs it, with no settings and no RLS); the tenant client
// itself — in alternating rounds, so that the machine's drift falls on the three alike.
const tenantDb = createTenantDb(database, resolved.context.tenantId);
const sampleTaskId = large.taskIds[0] as string;
const sampleWhere = { where: { id: sampleTaskId } };
const scopedSample = tenantScope.scopeArgs('Task', 'findUnique', sampleWhere, resolved.context.tenantId) as Parameters<
  typeof database.prisma.task.findFirst
>[0];
interface StatementCost {
  wallMs: number;
  cpuMs: number;
}
async function perStatement(run: () => Promise<unknown>, count: number, warmUp = 0): Promise<StatementCost> {
  for (let i = 0; i < warmUp; i++) await run();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await run();
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs: (performance.now() - started) / count, cpuMs: (cpu.user + cpu.system) / 1000 / count };
}
async function layeredStatements<Name extends string>(layers: Record<Name, () => Promise<unknown>>, rounds = 6, count = 1_000) {
  const names = Object.keys(layers) as Name[];
  for (const name of names) for (let i = 0; i < 200; i++) await layers[name]();
  const runs = Object.fromEntries(names.map((name) => [name, [] as StatementCost[]])) as Record<Name, StatementCost[]>;
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) runs[name].push(await perStatement(layers[name], count));
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      { wallMs: median(runs[name].map((run) => run.wallMs)), cpuMs: median(runs[name].map((run) => run.cpuMs)) },
    ]),
  ) as Record<Name, StatementCost>;
}
const statementLayers = await layeredStatements({
  plain: () => database.prisma.task.findUnique(sampleWhere),
  scopedArguments: () => database.prisma.task.findFirst(scopedSample),
  tenant: () => runInTenant(resolved.context, async () => await tenantDb.task.findUnique(sampleWhere)),
});

// What a request's lease costs: each statement from a client leased for it alone, round-robin over
// 1,000 tenants (that do not exist: their statements see nothing). No tenant gets a client of its own.
const leased = createTenantDbs(database, { size: 4, waitMs: 10_000 });
const manyTenantIds = Array.from({ length: 1_000 }, () => randomUUID());
let leaseTurn = 0;
const leasedStatement = await perStatement(
  () =>
    runInTenant({ ...resolved.context, tenantId: manyTenantIds[leaseTurn++ % manyTenantIds.length] as string }, async () => {
      const lease = await leased.lease(currentTenant());
      try {
        return await lease.client.task.findFirst({ select: { id: true } });
      } finally {
        lease.release();
      }
    }),
  2_000,
  200,
);

// Memory under a stream of distinct documents: 1,000 anonymous 1 MB bodies (refused on their
// headers), then 1,000 distinct authenticated documents just under MAX_BODY_BYTES (parsed, too
// large to cache) and 1,000 of 30 KB (cached until the cache's byte budget). RSS against idle.
let documentMemory: { idle: number; after: number } | undefined;
if (selected('abuse')) {
  const rss = () => {
    gc();
    return process.memoryUsage().rss;
  };
  const send = (text: string, token?: string) =>
    fetch(isolated.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: text }),
    }).then((response) => response.arrayBuffer());
  const idle = rss();
  const padding = (size: number) => 'x'.repeat(size);
  for (let i = 0; i < 1_000; i++) await send(`{ viewer { role } }\n# ${i} ${padding(1024 * 1024)}`);
  for (let i = 0; i < 1_000; i++)
    await send(`{ viewer { role } }\n# ${i} ${padding(config.limits.maxBodyBytes - 200)}`, tokenOf(tiny));
  for (let i = 0; i < 1_000; i++) await send(`{ viewer { role } }\n# ${i} ${padding(30_000)}`, tokenOf(tiny));
  documentMemory = { idle, after: rss() };
}

// --- Report -----------------------------------------------------------------------------------------

function fixed(value: number, digits = 1) {
  return value.toFixed(digits);
}
function ratioCells(ratio?: number, range?: [number, number]) {
  return `${ratio === undefined ? '' : `${fixed(ratio, 2)}×`} | ${range ? `${fixed(range[0], 2)}–${fixed(range[1], 2)}` : ''}`;
}
/** The HTTP workloads' table. */
function httpTable(): string[] {
  return [
    `| workload | server | req/s | p50 ms | p99 ms | SQL/request | server CPU ms/request | PostgreSQL CPU ms/request | vs baseline (median round) | rounds' range | CPU vs baseline: requests per CPU second (median round) | rounds' range | vs PostGraphile 5 (median round) | rounds' range |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.workload} | ${row.server} | ${fixed(row.result.requestsPerSecond, 0)} | ${row.result.p50} | ${row.result.p99} | ${row.statementsPerRequest === undefined ? '—' : fixed(row.statementsPerRequest)} | ${row.cpuPerRequestMs === undefined ? '—' : fixed(row.cpuPerRequestMs, 2)} | ${row.databaseCpuPerRequestMs === undefined ? '—' : fixed(row.databaseCpuPerRequestMs, 2)} | ${ratioCells(row.ratio, row.ratioRange)} | ${ratioCells(row.cpuRatio, row.cpuRatioRange)} | ${ratioCells(row.peerRatio, row.peerRatioRange)} |`,
    ),
  ];
}
const lines = httpTable();
const micro = [
  '| measure | value | target |',
  '| --- | ---: | --- |',
  `| context resolution p50 / p99 (warm registry, in-process) | ${fixed(percentile(contextTimes, 0.5), 3)} / ${fixed(percentile(contextTimes, 0.99), 3)} ms | p99 < 0.5 ms |`,
  `| registry queries during ${contextTimes.length} warm resolutions (one TTL window) | ${registryQueriesWarm} | 0 |`,
  `| per-message re-check (cached registry) | ${fixed(recheckMicros, 2)} µs | < 20 µs |`,
  `| events delivered per second: ${SUBSCRIBERS} subscribers × ${EVENTS} DELETED events (no SQL), re-checked per message | ${fixed(delivery.perSecond, 0)} | |`,
  `| events delivered per second: ${SUBSCRIBERS} subscribers × ${EVENTS_WITH_READS} UPDATED events, task read per subscriber (${fixed(deliveryWithReads.statementsPerEvent, 1)} SQL each), re-checked per message | ${fixed(deliveryWithReads.perSecond, 0)} | |`,
  `| memory per idle websocket (${IDLE_SOCKETS} connections, heap + external after GC) | ${fixed(idleBytes / 1024, 1)} KB | < 50 KB |`,
  `| one task(id) statement, plain Prisma \`findUnique\` (the baseline's): wall / CPU | ${fixed(statementLayers.plain.wallMs, 3)} / ${fixed(statementLayers.plain.cpuMs, 3)} ms | |`,
  `| the same on the plain client with the tenant client's arguments (\`findFirst\`, tenant predicate; no settings, no RLS): wall / CPU | ${fixed(statementLayers.scopedArguments.wallMs, 3)} / ${fixed(statementLayers.scopedArguments.cpuMs, 3)} ms | |`,
  `| the same on the tenant client (scoped, behind its settings, RLS): wall / CPU | ${fixed(statementLayers.tenant.wallMs, 3)} / ${fixed(statementLayers.tenant.cpuMs, 3)} ms | |`,
  `| one statement on a client leased for it, round-robin over 1,000 tenants (${leased.made} clients made): wall / CPU | ${fixed(leasedStatement.wallMs, 3)} ms / ${fixed(leasedStatement.cpuMs, 3)} ms | |`,
];
if (abuseRows.length > 0) {
  lines.push(
    '',
    `| abuse: a quiet tenant's point reads (4 connections) while, on 2 more connections each, … | p99 alone | p99 attacked | ratio (median of ${ABUSE_ROUNDS} rounds) | rounds' range | target |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...abuseRows.map(
      (row) =>
        `| 6 abuse: ${row.attack}${row.floodPerSecond === undefined ? '' : ` (${fixed(row.floodPerSecond, 0)} documents/s per flood)`} | ${fixed(row.alone, 0)} ms | ${fixed(row.attacked, 0)} ms | ${fixed(row.ratio, 2)}× | ${fixed(row.range[0], 2)}–${fixed(row.range[1], 2)} | ≤ 1.5× |`,
    ),
  );
  lines.push(
    '',
    abuseCores.split
      ? `Cores: the attackers (at nice 19) on CPU ${abuseCores.attackers}, the server process on CPU ${abuseCores.server}; PostgreSQL and the quiet client on any.`
      : 'Cores: every process on any core, the attackers at nice 19 (BENCH_ABUSE_CORES=shared, or no taskset).',
  );
}
if (poolerRow) {
  lines.push(
    '',
    "| behind PgBouncer (transaction mode): point reads through it against direct, two server processes | req/s ratio (median round) | rounds' range | errors | target |",
    '| --- | ---: | ---: | ---: | --- |',
    `| 3 point reads (¼ foreign ids) | ${fixed(poolerRow.ratio, 2)}× | ${fixed(poolerRow.range[0], 2)}–${fixed(poolerRow.range[1], 2)} | ${poolerRow.errors} | ≥ 0.90×, 0 errors |`,
  );
}
if (pageRows.length > 0) {
  lines.push(
    '',
    "| a page's cost against the data behind it: the same page on 1,000 tasks per project against on 20 | req/s ratio (median round) | rounds' range | SQL/request (20 → 1,000 per project) | target |",
    '| --- | ---: | ---: | ---: | --- |',
    ...pageRows.map(
      (row) =>
        `| ${row.page} | ${fixed(row.ratio, 2)}× | ${fixed(row.range[0], 2)}–${fixed(row.range[1], 2)} | ${row.statements.large} → ${row.statements.wide} | ≥ 0.90× |`,
    ),
  );
}
if (manyRows.length > 0) {
  lines.push(
    '',
    "| many tenants: the same requests over N tenants against over 20 | N | req/s ratio (median round) | rounds' range | p99 ratio | registry queries per request (N) | target |",
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...manyRows.map(
      (row) =>
        `| 7 many tenants: ${row.workload} | ${row.tenants} | ${fixed(row.ratio, 2)}× | ${fixed(row.range[0], 2)}–${fixed(row.range[1], 2)} | ${fixed(row.p99Ratio, 2)}× | ${fixed(row.registryPerRequest, 3)} | ≥ 0.90×, p99 ≤ 1.5× |`,
    ),
    '',
    `Server process RSS after a full GC: ${manyRss.map((entry) => `${entry.tenants === 0 ? 'before' : `after ${entry.tenants} tenants`} ${fixed(entry.rssMb, 0)} MB`).join(', ')} (target < 300 MB after 10,000, flat ±10% from 2,000 to 10,000).`,
  );
}
if (manySubscriptions.length > 0) {
  lines.push(
    '',
    '| subscriptions over many tenants (20 UPDATED events per subscriber, task read per message) | events delivered per second (rounds) | heap + external per subscriber |',
    '| --- | ---: | ---: |',
    ...manySubscriptions.map(
      (row) =>
        `| ${row.shape} | ${fixed(median(row.perSecond), 0)} (${row.perSecond.map((value) => fixed(value, 0)).join(', ')}) | ${fixed(median(row.bytesPerSubscriber) / 1024, 1)} KB |`,
    ),
  );
}
if (documentMemory) {
  micro.push(
    `| server process RSS: idle → after 1,000 anonymous 1 MB bodies, 1,000 distinct ${Math.round(config.limits.maxBodyBytes / 1024)} KB and 1,000 distinct 30 KB documents | ${fixed(documentMemory.idle / 2 ** 20, 0)} → ${fixed(documentMemory.after / 2 ** 20, 0)} MB (${fixed(documentMemory.after / documentMemory.idle, 2)}×) | ≤ 1.5× |`,
  );
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const header = [
  `Run ${new Date().toISOString()} on ${machine}.`,
  `Database: ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite (in-process: numbers are not comparable to a server)'}; ${DURATION} s per measurement (nested read: ${nestedWorkload.durationSeconds} s, sent to tenantgraph as \`${NESTED_SHAPE}\`), ${LIGHT_ROUNDS} rounds (workloads 1, 3, 4; ${ROUNDS} on 2 and 5) of baseline, tenantgraph, tenantgraph, baseline${peer ? ' (then as many of tenantgraph, PostGraphile 5, PostGraphile 5, tenantgraph on workloads 2–5)' : ''} (req/s and latencies: mean of all runs; ratios: median round); ${CONNECTIONS} connections (nested read: ${nestedWorkload.connections}), load from a separate process${peer ? ', PostGraphile 5 in a process of its own' : ''}.`,
  `Data: ${tenants.map((t) => `${t.slug} ${t.projectIds.length} projects`).join(', ')}; 20 tasks per project, a comment per task.`,
];
const report = [...header, '', ...lines, '', ...micro].join('\n');
console.log(`\n${report}\n`);
if (process.argv.includes('--save')) {
  await writeFile(
    'docs/benchmark-results.md',
    `# Latest benchmark run\n\nWritten by \`npm run bench -- --save\`.\n\n${report}\n`,
  );
}

await peer?.close();
await baseline.close();
// The A/A run's second baseline stands where the server would (its own pool to end).
if (AA && 'close' in isolated) await isolated.close();
await app.stop(1_000);
await database.close();
await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
