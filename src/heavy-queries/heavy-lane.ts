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
}

interface Pending {
  worker: Worker;
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
  private closed = false;

  constructor(private readonly options: HeavyLaneOptions) {
    this.turns = new TenantTurns(options.turns);
    this.start();
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
    const worker = this.worker;
    if (!worker) return Promise.reject(new HeavyLaneUnavailableError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, query } satisfies ToWorker);
    });
  }

  private start(): void {
    const worker = this.options.startWorker();
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
      for (const [id, pending] of this.pending) {
        if (pending.worker !== worker) continue;
        this.pending.delete(id);
        pending.reject(new HeavyLaneUnavailableError());
      }
      if (this.closed) return;
      increment('heavy_worker_restart');
      this.options.logger.warn({ code }, 'the heavy query worker ended; starting another');
      setTimeout(() => {
        if (!this.closed) this.start();
      }, this.options.restartDelayMs ?? 1_000).unref();
    });
    this.worker = worker;
  }
}
