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
 * pooled client's caches (Prisma's query plans) serve every tenant. Executions wait their turn
 * when every client is leased (first come, first served).
 */
export class LeasedClients<Client> {
  private readonly pooled: Pooled<Client>[] = [];
  private readonly free: Pooled<Client>[] = [];
  private readonly waiting: { take(pooled: Pooled<Client>): void }[] = [];

  constructor(
    private readonly create: (binding: TenantBinding) => Client,
    private readonly options: LeasedClientsOptions,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('size must be a positive integer');
  }

  /** A client bound to `owner`'s tenant for `owner` alone (the execution's tenant context). */
  async lease(owner: TenantContext): Promise<Lease<Client>> {
    const pooled = this.free.pop() ?? this.make() ?? (await this.wait());
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

  private wait(): Promise<Pooled<Client>> {
    increment('client_lease_wait');
    return new Promise((resolve, reject) => {
      const waiter = {
        take: (pooled: Pooled<Client>) => {
          clearTimeout(timer);
          resolve(pooled);
        },
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        increment('client_lease_timeout');
        reject(new LeaseTimeoutError(this.options.waitMs));
      }, this.options.waitMs);
      this.waiting.push(waiter);
    });
  }

  private giveBack(pooled: Pooled<Client>): void {
    const next = this.waiting.shift();
    if (next) next.take(pooled);
    else this.free.push(pooled);
  }
}
