/** A tenant waited longer than allowed for its turn: the work may be tried again later. */
export class TurnTimeoutError extends Error {
  override name = 'TurnTimeoutError';
  constructor(waitMs: number) {
    super(`no turn came within ${waitMs} ms`);
  }
}

/** A tenant has used more than its share of the capacity lately: refused at once, to try again after `retryAfterMs`. */
export class TurnBudgetSpentError extends Error {
  override name = 'TurnBudgetSpentError';
  constructor(readonly retryAfterMs: number) {
    super(`this tenant's share is spent for the next ${retryAfterMs} ms`);
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
  /**
   * The share of one slot's time a tenant may use, over time (0 < share ≤ 1; 1, the default, sets
   * no budget). Each piece of work charges its duration ÷ share, and the charge runs off in real
   * time: a tenant owing more than `burstMs` waits until it owes no more, and one owing more than it
   * could wait for is refused (TurnBudgetSpentError).
   */
  share?: number;
  /** What a tenant may owe and still start work (a burst of heavy work before the share applies). */
  burstMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** What a tenant owes, as of when it was last charged. */
interface Debt {
  ms: number;
  at: number;
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

  private readonly debts = new Map<string, Debt>();
  private readonly share: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  /** Set while waiting work is held back by its tenant's debt alone: wakes it when that is paid. */
  private wakeUp: { timer: NodeJS.Timeout; at: number } | undefined;
  /** Debts are swept of the paid ones when there are this many (then twice as many as remain). */
  private sweepAt = 1_000;

  constructor(private readonly options: TenantTurnsOptions) {
    for (const name of ['concurrency', 'perTenant', 'waitMs', 'queuePerTenant'] as const) {
      const value = options[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
    }
    this.share = options.share ?? 1;
    if (!(this.share > 0 && this.share <= 1)) throw new RangeError('share must be in (0, 1]');
    this.burstMs = options.burstMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    // Whoever waits is waiting for its own tenant's share (a free slot is handed over the moment it
    // frees), so work that may start now takes no one's turn.
    if (this.mayStart(tenantId)) this.take(tenantId);
    else await this.wait(tenantId);
    const started = this.now();
    try {
      return await work();
    } finally {
      this.charge(tenantId, this.now() - started);
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

  /** What `tenantId` owes now: its last charge, less the time since. */
  owedMs(tenantId: string): number {
    const debt = this.debts.get(tenantId);
    if (!debt) return 0;
    const owed = debt.ms - (this.now() - debt.at);
    if (owed <= 0) this.debts.delete(tenantId);
    return Math.max(owed, 0);
  }

  private charge(tenantId: string, durationMs: number): void {
    if (this.share === 1) return;
    this.debts.set(tenantId, { ms: this.owedMs(tenantId) + durationMs / this.share, at: this.now() });
    if (this.debts.size >= this.sweepAt) {
      // A tenant that ran once and never again would otherwise be remembered for good.
      for (const owing of this.debts.keys()) this.owedMs(owing);
      this.sweepAt = Math.max(1_000, this.debts.size * 2);
    }
  }

  /** How long until `tenantId` owes no more than the burst allows. */
  private heldBackMs(tenantId: string): number {
    return this.share === 1 ? 0 : Math.max(this.owedMs(tenantId) - this.burstMs, 0);
  }

  private mayStart(tenantId: string): boolean {
    return (
      this.running < this.options.concurrency &&
      (this.runningOf.get(tenantId) ?? 0) < this.options.perTenant &&
      this.heldBackMs(tenantId) === 0
    );
  }

  private wait(tenantId: string): Promise<void> {
    const queue = this.waiting.get(tenantId) ?? [];
    if (queue.length >= this.options.queuePerTenant) return Promise.reject(new TurnQueueFullError(queue.length));
    // Owing more than it could wait for: told at once when to come back, instead of at the deadline.
    const heldBack = this.heldBackMs(tenantId);
    if (heldBack >= this.options.waitMs) return Promise.reject(new TurnBudgetSpentError(Math.ceil(heldBack)));
    if (heldBack > 0) this.wakeAfter(heldBack);
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

  /** Runs startNext once `ms` have passed (or sooner, if already due). */
  private wakeAfter(ms: number): void {
    const at = this.now() + ms;
    if (this.wakeUp && this.wakeUp.at <= at) return;
    if (this.wakeUp) clearTimeout(this.wakeUp.timer);
    const timer = setTimeout(() => {
      this.wakeUp = undefined;
      this.startNext();
    }, ms + 1);
    // The waiting work's own deadline keeps the process alive; this only wakes it early.
    timer.unref();
    this.wakeUp = { timer, at };
  }

  /** Starts the first waiting work, in the tenants' turn, whose tenant is below its share. */
  private startNext(): void {
    while (this.running < this.options.concurrency) {
      const next = [...this.waiting.keys()].find((tenantId) => this.mayStart(tenantId));
      if (next === undefined) {
        // Work held back by debt alone is woken when the first of those debts is paid.
        const owed = [...this.waiting.keys()].map((tenantId) => this.heldBackMs(tenantId)).filter((ms) => ms > 0);
        if (owed.length > 0) this.wakeAfter(Math.min(...owed));
        return;
      }
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
