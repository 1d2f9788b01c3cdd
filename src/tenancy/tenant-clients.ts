/**
 * One client per tenant, created on first use and kept for the most recently used `max` tenants.
 * A tenant's client is bound to that tenant for its whole life, so nothing it runs depends on
 * which request's async context the ORM schedules work in. An evicted client is only dropped:
 * requests still holding it finish on it, and the next request of that tenant makes a new one.
 */
export class TenantClients<Client> {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly create: (tenantId: string) => Client,
    private readonly max: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  }

  /** The client of `tenantId`, most recently used from now on. */
  for(tenantId: string): Client {
    let client = this.clients.get(tenantId);
    if (client) this.clients.delete(tenantId);
    else client = this.create(tenantId);
    this.clients.set(tenantId, client);
    if (this.clients.size > this.max) {
      const oldest = this.clients.keys().next().value as string;
      this.clients.delete(oldest);
    }
    return client;
  }

  get size(): number {
    return this.clients.size;
  }
}
