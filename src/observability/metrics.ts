/**
 * Process-wide counters for security-relevant events. Deliberately tiny: a Prometheus endpoint can
 * read `snapshot()` later; what matters now is that each event is counted and testable.
 */
const counters = new Map<string, number>();

export type CounterName =
  | 'tenant_context_missing'
  | 'tenant_client_mismatch'
  | 'rls_violation'
  | 'tenant_resolution_failed'
  | 'registry_query'
  | 'tenant_statement'
  | 'foreign_event_dropped'
  | 'subscription_revoked'
  | 'subscriber_too_slow'
  | 'subscription_tenant_limit';

export function increment(name: CounterName, by = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + by);
}

export function counterValue(name: CounterName): number {
  return counters.get(name) ?? 0;
}

export function snapshot(): Record<string, number> {
  return Object.fromEntries(counters);
}
