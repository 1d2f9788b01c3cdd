import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { HeavyLane } from './heavy-lane.js';
import type { HeavyWorkerData } from './heavy-query.js';
import { siblingModule, startModuleWorker } from './module-worker.js';

/** Heap the worker may use: a runaway query ends the worker (and the queries it held), never the server. */
const WORKER_HEAP_MB = 512;
/**
 * How much lower than the main thread the worker runs (Linux niceness, 0–19): the lowest, so a heavy
 * read uses the CPU the main thread's requests leave (bench: 2.50× at 10, 2.00× at 19, quiet tenant's p99).
 */
const WORKER_NICENESS = 19;
/** Heavy queries one tenant may have waiting at once; more are refused as RATE_LIMITED. */
const QUEUE_PER_TENANT = 20;

/** The heavy lane as configured: one worker thread over `databaseUrl`. */
export function startHeavyLane(options: { config: Config; databaseUrl: string; logger: Logger }): HeavyLane {
  const { config, databaseUrl, logger } = options;
  const workerData: HeavyWorkerData = {
    databaseUrl,
    preparedStatements: config.databasePreparedStatements,
    concurrency: config.heavyQueries.concurrency,
    clientWaitMs: config.databaseClientWaitMs,
    logLevel: config.logLevel,
    niceness: WORKER_NICENESS,
  };
  return new HeavyLane({
    startWorker: () =>
      startModuleWorker(siblingModule('query-worker', import.meta.url), {
        workerData,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      }),
    turns: {
      concurrency: config.heavyQueries.concurrency,
      perTenant: config.heavyQueries.perTenant,
      waitMs: config.databaseClientWaitMs,
      queuePerTenant: QUEUE_PER_TENANT,
      share: config.heavyQueries.share,
      // What a tenant may owe is counted in time charged (duration ÷ share).
      burstMs: config.heavyQueries.burstMs / config.heavyQueries.share,
    },
    logger,
  });
}
