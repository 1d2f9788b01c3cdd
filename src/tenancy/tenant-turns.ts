/** A tenant waited longer than allowed for its turn: the work may be tried again later. */
export class TurnTimeoutError extends Error {
  override name = 'TurnTimeoutError';
  constructor(waitMs: number) {
    super(`no turn came within ${waitMs} ms`);
  }
}

/** A tenant already has as much work waiting as it may: refused at once, nothing queued. */
export class TurnQueueFullError extends Error {
  override name = 'TurnQueueFullError';
  constructor(queued: number) {
    super(`${queued} already waiting for this tenant`);
  }
}

export interface TenantTurnsOptions {
  /** Work running at once, all tenants together. */
  concurrency: number;
  /** Work of one tenant running at once. */
  perTenant: number;
  /** How long work may wait for its turn. */
  waitMs: number;
  /** Work of one tenant that may wait at once; more is refused. */
  queuePerTenant: number;
}

interface Waiter {
  start(): void;
}

/**
 * Runs scarce work — what one worker thread can do at once — with at most `concurrency` running,
 * at most `perTenant` of one tenant, and waiting work started tenant by tenant in turn: a tenant
 * sending many at once waits behind its own, never in front of another tenant's, and can hold at
 * most `perTenant` of the capacity whatever it sends.
 */
export class TenantTurns {
  private running = 0;
  private readonly runningOf = new Map<string, number>();
  /** Waiting work per tenant; the map's order is the rotation (a tenant served goes to the back). */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly options: TenantTurnsOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
    }
  }

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    // Whoever waits is waiting for its own tenant's share (a free slot is handed over the moment it
    // frees), so work that may start now takes no one's turn.
    if (this.mayStart(tenantId)) this.take(tenantId);
    else await this.wait(tenantId);
    try {
      return await work();
    } finally {
      this.running--;
      const left = (this.runningOf.get(tenantId) ?? 1) - 1;
      if (left === 0) this.runningOf.delete(tenantId);
      else this.runningOf.set(tenantId, left);
      this.startNext();
    }
  }

  /** Work running now: all tenants, or one. */
  runningNow(tenantId?: string): number {
    return tenantId === undefined ? this.running : (this.runningOf.get(tenantId) ?? 0);
  }

  private mayStart(tenantId: string): boolean {
    return this.running < this.options.concurrency && (this.runningOf.get(tenantId) ?? 0) < this.options.perTenant;
  }

  private wait(tenantId: string): Promise<void> {
    const queue = this.waiting.get(tenantId) ?? [];
    if (queue.length >= this.options.queuePerTenant) return Promise.reject(new TurnQueueFullError(queue.length));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const mine = this.waiting.get(tenantId) ?? [];
        const index = mine.indexOf(waiter);
        if (index >= 0) mine.splice(index, 1);
        if (mine.length === 0) this.waiting.delete(tenantId);
        reject(new TurnTimeoutError(this.options.waitMs));
      }, this.options.waitMs);
      queue.push(waiter);
      if (!this.waiting.has(tenantId)) this.waiting.set(tenantId, queue);
    });
  }

  private take(tenantId: string): void {
    this.running++;
    this.runningOf.set(tenantId, (this.runningOf.get(tenantId) ?? 0) + 1);
  }

  /** Starts the first waiting work, in the tenants' turn, whose tenant is below its share. */
  private startNext(): void {
    while (this.running < this.options.concurrency) {
      const next = [...this.waiting.keys()].find((tenantId) => this.mayStart(tenantId));
      if (next === undefined) return;
      const queue = this.waiting.get(next) as Waiter[];
      const waiter = queue.shift() as Waiter;
      this.waiting.delete(next);
      if (queue.length > 0) this.waiting.set(next, queue);
      // Taken for it now, so that the loop sees the slot gone before its `run` resumes.
      this.take(next);
      waiter.start();
    }
  }
}
