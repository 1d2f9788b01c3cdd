import { AsyncLocalStorage } from 'node:async_hooks';
import { increment } from '../observability/metrics.js';
import type { Identity } from './tenant-registry.js';

/** Who is asking, resolved once per request (or per subscription message) and never from the client. */
export interface TenantContext {
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly userId: string;
  /** The caller's role in this tenant, from the membership. */
  readonly role: string;
  readonly requestId: string;
  /** Who the caller's token names; re-checked by long-lived connections. Absent for the server's own work (seeding, checks). */
  readonly identity?: Identity;
}

/** Thrown when tenant-scoped work runs with no tenant bound: a programming error, never a client one. */
export class TenantContextMissingError extends Error {
  override name = 'TenantContextMissingError';
  constructor(what: string) {
    super(`${what} needs a tenant context, and none is bound to this execution`);
  }
}

// The one and only store: every layer reads the tenant from here (a second store would silently
// read as empty — see shared/seeds on split thread-locals).
const storage = new AsyncLocalStorage<TenantContext>();

/** Runs `work` with `context` bound for everything it awaits, and nothing outside it. */
export function runInTenant<T>(context: TenantContext, work: () => T): T {
  return storage.run(Object.freeze({ ...context }), work);
}

/** The bound tenant; throws (and counts) when there is none, so a missing context fails closed. */
export function currentTenant(what = 'this operation'): TenantContext {
  const context = storage.getStore();
  if (!context) {
    increment('tenant_context_missing');
    throw new TenantContextMissingError(what);
  }
  return context;
}

/** For code that works with or without a tenant (logging). Never use it to decide access. */
export function peekTenant(): TenantContext | undefined {
  return storage.getStore();
}
