import type { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { TenantTurns, type TenantTurnsOptions } from '../tenancy/tenant-turns.js';
import type { FromWorker, HeavyAnswer, HeavyQuery, ToWorker } from './heavy-query.js';

/** The worker is gone (crashed, out of memory, restarting): the query may be tried again. */
export class HeavyLaneUnavailableError extends Error {
  override name = 'HeavyLaneUnavailableError';
  constructor() {
    super('the heavy query worker is not running');
  }
}

export interface HeavyLaneOptions {
  /** Starts a worker running src/heavy-queries/query-worker.ts. */
  startWorker(): Worker;
  turns: TenantTurnsOptions;
  logger: Logger;
  /** How long after a worker ended a new one is started. */
  restartDelayMs?: number;
  /**
   * How long a query may run on the worker before its caller is answered UNAVAILABLE and its turn
   * given back (the worker finishes it regardless; its answer is dropped).
   */
  deadlineMs?: number;
}

interface Pending {
  worker: Worker;
  tenantId: string;
  resolve(answer: HeavyAnswer): void;
  reject(error: Error): void;
}

/**
 * Heavy queries, run on a worker thread of their own. graphql-js completes a result synchronously,
 * so a read of ten thousand rows holds the event loop for a quarter of a second — and every other
 * tenant's request with it. On the worker it holds only the worker, at a lower CPU priority, and
 * tenants take turns for it (TenantTurns): one tenant's heavy reads wait behind each other, not in
 * front of anyone's. A worker that dies (a bug, its memory cap) fails only the queries it held and
 * is replaced.
 */
export class HeavyLane {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly turns: TenantTurns;
  private nextId = 1;
  private started = false;
  private closed = false;

  constructor(private readonly options: HeavyLaneOptions) {
    this.turns = new TenantTurns(options.turns);
  }

  /** Runs `query` on the worker when its tenant's turn comes; throws TurnTimeoutError, TurnQueueFullError, HeavyLaneUnavailableError. */
  run(query: HeavyQuery): Promise<HeavyAnswer> {
    return this.turns.run(query.tenant.tenantId, () => this.send(query));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private send(query: HeavyQuery): Promise<HeavyAnswer> {
    // Started by the first heavy query: a server that never gets one never pays for a second isolate
    // (its schema, clients and connections: ~50 MB). Messages wait for the worker to be ready.
    if (!this.started) {
      this.started = true;
      this.start();
    }
    const worker = this.worker;
    if (!worker) return Promise.reject(new HeavyLaneUnavailableError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        increment('heavy_query_deadline');
        this.options.logger.warn(
          { tenantId: query.tenant.tenantId, requestId: query.tenant.requestId },
          'a heavy query ran past its deadline',
        );
        reject(new HeavyLaneUnavailableError());
      }, this.options.deadlineMs ?? 30_000);
      timer.unref();
      const settle =
        <T>(then: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          then(value);
        };
      this.pending.set(id, { worker, tenantId: query.tenant.tenantId, resolve: settle(resolve), reject: settle(reject) });
      worker.postMessage({ id, query } satisfies ToWorker);
    });
  }

  private start(): void {
    let worker: Worker;
    try {
      worker = this.options.startWorker();
    } catch (error) {
      // Heavy queries answer UNAVAILABLE meanwhile; everything else is unaffected.
      increment('heavy_worker_failed');
      this.options.logger.error({ err: error }, 'the heavy query worker could not be started; trying again');
      this.restartLater();
      return;
    }
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.resolve(message.answer);
    });
    worker.on('error', (error) => {
      increment('heavy_worker_failed');
      this.options.logger.error({ err: error }, 'the heavy query worker failed');
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      // Whose queries it held: when one of them brought it down, its tenant is among these.
      const tenants = new Set<string>();
      for (const [id, pending] of this.pending) {
        if (pending.worker !== worker) continue;
        this.pending.delete(id);
        tenants.add(pending.tenantId);
        pending.reject(new HeavyLaneUnavailableError());
      }
      if (this.closed) return;
      increment('heavy_worker_restart');
      this.options.logger.warn({ code, tenants: [...tenants] }, 'the heavy query worker ended; starting another');
      this.restartLater();
    });
    this.worker = worker;
  }

  private restartLater(): void {
    setTimeout(() => {
      if (!this.closed) this.start();
    }, this.options.restartDelayMs ?? 1_000).unref();
  }
}
