/** Who an error was raised for: the request, and its tenant and user once resolved. */
export interface ErrorOrigin {
  requestId: string;
  tenantId?: string;
  userId?: string;
}

/**
 * The request an error was raised in. Yoga's error mask runs after the execution's tenant context
 * has ended, so it cannot read the request or the tenant from there; the execution notes them on
 * its errors as it ends (use-tenant-scope.ts), and the mask's log line names them. Weak: an error
 * that is gone takes its note with it.
 */
const origins = new WeakMap<object, ErrorOrigin>();

export function noteOrigin(error: unknown, origin: ErrorOrigin): void {
  if (typeof error === 'object' && error !== null && !origins.has(error)) {
    origins.set(error, { requestId: origin.requestId, tenantId: origin.tenantId, userId: origin.userId });
  }
}

export function originOf(error: unknown): ErrorOrigin | undefined {
  return typeof error === 'object' && error !== null ? origins.get(error) : undefined;
}
