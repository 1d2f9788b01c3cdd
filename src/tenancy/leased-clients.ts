import { increment } from '../observability/metrics.js';
import { TenantBinding } from './tenant-binding.js';
import type { TenantContext } from './tenant-context.js';

/** One client, bound to one execution until released. */
export interface Lease<Client> {
  readonly client: Client;
  /** Unbinds the client (in-flight operations finish first) and returns it to the pool. Idempotent. */
  release(): void;
}

/** No client came free within the wait: the server is saturated, the request may be tried again. */
export class LeaseTimeoutError extends Error {
  override name = 'LeaseTimeoutError';
  constructor(waitMs: number) {
    super(`no database client came free within ${waitMs} ms`);
  }
}

export interface LeasedClientsOptions {
  /** Clients made at most: how many executions use the database at once, whatever the number of tenants. */
  size: number;
  /** How long an execution waits for a client before it fails as unavailable. */
  waitMs: number;
}

interface Pooled<Client> {
  client: Client;
  binding: TenantBinding;
}

/**
 * A fixed pool of tenant clients, each leased to one execution at a time — a request, or one
 * subscription message — and bound to that execution's tenant for the lease. What a request costs
 * therefore does not depend on how many tenants are active: no client is made per tenant, and each
 * pooled client's caches (Prisma's query plans) serve every tenant. When every client is leased,
 * executions wait — tenants in turn, each tenant's own in arrival order — so a tenant sending many
 * requests at once delays its own, and everyone else's only by its turn. (The seam for per-tenant
 * quotas: what a tenant may hold, and how long it may wait.)
 */
export class LeasedClients<Client> {
  private readonly pooled: Pooled<Client>[] = [];
  private readonly free: Pooled<Client>[] = [];
  /**
   * Executions waiting for a client, queued per tenant; tenants take turns (the map's order is the
   * rotation: a tenant served goes to the back). One tenant's flood waits behind its own requests,
   * not in front of everyone else's.
   */
  private readonly waiting = new Map<string, Waiter<Client>[]>();

  constructor(
    private readonly create: (binding: TenantBinding) => Client,
    private readonly options: LeasedClientsOptions,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('size must be a positive integer');
  }

  /** A client bound to `owner`'s tenant for `owner` alone (the execution's tenant context). */
  async lease(owner: TenantContext): Promise<Lease<Client>> {
    const pooled = this.free.pop() ?? this.make() ?? (await this.wait(owner.tenantId));
    pooled.binding.bind(owner.tenantId, owner);
    let released = false;
    return {
      client: pooled.client,
      release: () => {
        if (released) return;
        released = true;
        void pooled.binding.unbind().then(() => this.giveBack(pooled));
      },
    };
  }

  /** Clients made so far (at most `size`). */
  get made(): number {
    return this.pooled.length;
  }

  private make(): Pooled<Client> | undefined {
    if (this.pooled.length >= this.options.size) return undefined;
    const binding = new TenantBinding();
    const pooled = { client: this.create(binding), binding };
    this.pooled.push(pooled);
    return pooled;
  }

  private wait(tenantId: string): Promise<Pooled<Client>> {
    increment('client_lease_wait');
    return new Promise((resolve, reject) => {
      const waiter: Waiter<Client> = {
        take: (pooled) => {
          clearTimeout(timer);
          resolve(pooled);
        },
      };
      const timer = setTimeout(() => {
        const queue = this.waiting.get(tenantId) ?? [];
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        if (queue.length === 0) this.waiting.delete(tenantId);
        increment('client_lease_timeout');
        reject(new LeaseTimeoutError(this.options.waitMs));
      }, this.options.waitMs);
      const queue = this.waiting.get(tenantId);
      if (queue) queue.push(waiter);
      else this.waiting.set(tenantId, [waiter]);
    });
  }

  /** To the next tenant in turn, or back to the free list. */
  private giveBack(pooled: Pooled<Client>): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.free.push(pooled);
      return;
    }
    const [tenantId, queue] = next.value;
    const waiter = queue.shift() as Waiter<Client>;
    this.waiting.delete(tenantId);
    if (queue.length > 0) this.waiting.set(tenantId, queue);
    waiter.take(pooled);
  }
}

interface Waiter<Client> {
  take(pooled: Pooled<Client>): void;
}
