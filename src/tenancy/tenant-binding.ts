import type { TenantContext } from './tenant-context.js';

/**
 * Which tenant a Prisma client serves right now, and for which execution. The connection half of a
 * tenant client reads the tenant from here for every statement it sends (so nothing depends on the
 * async context Prisma schedules a statement in); the query half checks, for every operation, that
 * the execution calling it is the one the client is bound to.
 *
 * A pooled client is bound for one lease (a request, or one subscription message) and unbound when
 * it is released: operations started by the lease finish under its tenant, anything started after
 * the release is refused, and once nothing is in flight the tenant is cleared, so a statement that
 * still reaches the connection has no tenant and fails closed.
 */
export class TenantBinding {
  private current: { tenantId: string; owner: TenantContext | undefined; open: boolean } | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  /** The tenant statements run for, if bound (the connection half asks, statement by statement). */
  get tenantId(): string | undefined {
    return this.current?.tenantId;
  }

  /**
   * Binds to `tenantId`, for the execution whose tenant context is `owner` — or, with no owner, for
   * any execution of that tenant (a client dedicated to one tenant: seeding, tests, the start-up check).
   */
  bind(tenantId: string, owner?: TenantContext): void {
    if (this.current) throw new Error('a tenant binding was bound twice');
    this.current = { tenantId, owner, open: true };
  }

  /** Whether an execution with this tenant context may start an operation on the client now. */
  admits(context: TenantContext): boolean {
    const current = this.current;
    return current?.open === true && current.tenantId === context.tenantId && (current.owner ?? context) === context;
  }

  /** Counts `operation` as in flight until it settles: the binding is not cleared before that. */
  track<T>(operation: Promise<T>): void {
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    };
    operation.then(settled, settled);
  }

  /**
   * Refuses new operations at once and resolves once those in flight have settled, with the tenant
   * cleared. (An operation that never settles keeps the client out of its pool until it does.)
   */
  unbind(): Promise<void> {
    if (this.current) this.current.open = false;
    if (this.inFlight === 0) {
      this.current = undefined;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        this.current = undefined;
        resolve();
      };
    });
  }
}
