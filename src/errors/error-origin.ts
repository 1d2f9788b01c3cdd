/**
 * The request an error was raised in. Yoga's error mask runs after the execution's tenant context
 * has ended, so it cannot read the request id from there; an error raised inside a request notes
 * it here, and the mask's log line names it. Weak: an error that is gone takes its note with it.
 */
const origins = new WeakMap<object, string>();

export function noteOrigin(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null && !origins.has(error)) origins.set(error, requestId);
}

export function originOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? origins.get(error) : undefined;
}
