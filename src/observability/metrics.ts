/**
 * Process-wide counters for security-relevant events. Deliberately tiny: a Prometheus endpoint can
 * read `snapshot()` later; what matters now is that each event is counted and testable.
 */
const counters = new Map<string, number>();

export type CounterName =
  | 'tenant_context_missing'
  | 'tenant_client_mismatch'
  | 'tenant_client_after_release'
  | 'client_lease_wait'
  | 'client_lease_timeout'
  | 'heavy_query'
  | 'heavy_query_refused'
  | 'heavy_query_deadline'
  | 'heavy_worker_failed'
  | 'heavy_worker_restart'
  | 'registry_heartbeat_missed'
  | 'rls_violation'
  | 'tenant_resolution_failed'
  | 'registry_query'
  | 'jit_user_created'
  | 'jit_user_declined'
  | 'tenant_statement'
  | 'foreign_event_dropped'
  | 'subscription_revoked'
  | 'subscriber_too_slow'
  | 'subscription_tenant_limit'
  /** A request refused at the front door: body too large, no length, or unauthenticated. */
  | 'request_refused'
  | 'query_too_costly'
  /** A statement or registry lookup failed because PostgreSQL was unreachable or ended the connection. */
  | 'database_unavailable'
  | 'database_connection_error'
  | 'redis_publish_failed'
  | 'redis_message_dropped'
  | 'registry_listen_reconnected'
  /** A NOTIFY on the registry channel that is not a registry change (ignored). */
  | 'registry_notification_dropped'
  /** An error or rejection nothing else handled (the last-resort handler). */
  | 'unhandled_error'
  /** Of those, the uncaught exceptions: after one, /readyz answers 503. */
  | 'uncaught_exception';

export function increment(name: CounterName, by = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + by);
}

export function counterValue(name: CounterName): number {
  return counters.get(name) ?? 0;
}

export function snapshot(): Record<string, number> {
  return Object.fromEntries(counters);
}
