import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request an HTTP exchange belongs to, from its first byte: the tenant context (which carries
 * the id too) is only bound once the request is resolved and executing, but Yoga, the error mask
 * and the plugins log before and after that. The logger reads the id from here when no tenant is
 * bound, so every line of a request names it. Identifies; never decides access.
 */
const scope = new AsyncLocalStorage<{ readonly requestId: string }>();

export function runInRequestScope<T>(requestId: string, work: () => T): T {
  return scope.run({ requestId }, work);
}

export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}
