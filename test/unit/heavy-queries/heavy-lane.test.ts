import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { HeavyLane, HeavyLaneUnavailableError } from '../../../src/heavy-queries/heavy-lane.js';
import type { HeavyQuery } from '../../../src/heavy-queries/heavy-query.js';
import { createLogger } from '../../../src/observability/logger.js';
import { counterValue } from '../../../src/observability/metrics.js';

// A stand-in worker (a real thread) that answers each query with its document, and ends itself on
// the document "crash" — what an out-of-memory query or a bug in the worker does.
const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, query }) => {
  if (query.document === 'crash') process.exit(3);
  if (query.document === 'hang') return;
  setTimeout(() => parentPort.postMessage({ id, answer: { body: JSON.stringify({ data: query.document }) } }), 20);
});`;

const query = (document: string, tenantId = 't1'): HeavyQuery => ({
  tenant: { tenantId, tenantSlug: tenantId, userId: 'u', role: 'VIEWER', requestId: 'r' },
  profile: undefined,
  tokenExpiresAt: undefined,
  document,
  variables: undefined,
  operationName: undefined,
  maxCost: 1,
  measuredCost: 1,
});

describe('the heavy lane', () => {
  it('fails only the queries a dead worker held, with a retryable error, and starts another', async () => {
    const lane = new HeavyLane({
      startWorker: () => new Worker(WORKER, { eval: true }),
      turns: { concurrency: 4, perTenant: 4, waitMs: 5_000, queuePerTenant: 10 },
      logger: createLogger('silent'),
      restartDelayMs: 10,
    });
    try {
      expect((await lane.run(query('first'))).body).toBe('{"data":"first"}');
      const restarts = counterValue('heavy_worker_restart');
      const held = lane.run(query('held'));
      await expect(lane.run(query('crash'))).rejects.toBeInstanceOf(HeavyLaneUnavailableError);
      await expect(held).rejects.toBeInstanceOf(HeavyLaneUnavailableError);
      expect(counterValue('heavy_worker_restart')).toBe(restarts + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await lane.run(query('after'))).body).toBe('{"data":"after"}');
    } finally {
      await lane.close();
    }
  });

  it('answers a query past its deadline UNAVAILABLE and gives its turn back', async () => {
    const lane = new HeavyLane({
      startWorker: () => new Worker(WORKER, { eval: true }),
      turns: { concurrency: 1, perTenant: 1, waitMs: 5_000, queuePerTenant: 10 },
      logger: createLogger('silent'),
      // Long enough that the next query (answered in 20 ms) meets it on a loaded CI machine too:
      // at 100 ms it once did not.
      deadlineMs: 1_000,
    });
    try {
      await expect(lane.run(query('hang'))).rejects.toBeInstanceOf(HeavyLaneUnavailableError);
      // The one slot is free again: the next query of the same tenant runs.
      expect((await lane.run(query('next'))).body).toBe('{"data":"next"}');
    } finally {
      await lane.close();
    }
  });

  it('keeps trying when a worker cannot be started, and serves once one can', async () => {
    let attempts = 0;
    const lane = new HeavyLane({
      startWorker: () => {
        attempts++;
        if (attempts < 3) throw new Error('no threads left');
        return new Worker(WORKER, { eval: true });
      },
      turns: { concurrency: 1, perTenant: 1, waitMs: 5_000, queuePerTenant: 10 },
      logger: createLogger('silent'),
      restartDelayMs: 10,
    });
    try {
      await expect(lane.run(query('early'))).rejects.toBeInstanceOf(HeavyLaneUnavailableError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(attempts).toBe(3);
      expect((await lane.run(query('later'))).body).toBe('{"data":"later"}');
    } finally {
      await lane.close();
    }
  });
});
