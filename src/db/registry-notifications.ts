import pg from 'pg';
import type { TenantRegistry } from '../tenancy/tenant-registry.js';
import type { SqlRunner } from './sql-runner.js';

// Registry changes (suspension, membership) made by another process reach running servers through
// PostgreSQL's LISTEN/NOTIFY at once; the registry TTL is the upper bound when nothing is listening.

const CHANNEL = 'tenantgraph_registry';

export interface RegistryChange {
  tenantId: string;
  /** Present when one membership changed; absent when the tenant itself did. */
  userId?: string;
}

export async function notifyRegistryChange(sql: SqlRunner, change: RegistryChange): Promise<void> {
  await sql.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]);
}

/**
 * Applies one notified change (from PostgreSQL or Redis). Anything malformed — not JSON, JSON that
 * is not an object, no tenant id — is ignored and answers false, so the caller can count it.
 */
export function applyRegistryChange(registry: TenantRegistry, payload: string): boolean {
  let change: unknown;
  try {
    change = JSON.parse(payload);
  } catch {
    return false;
  }
  if (typeof change !== 'object' || change === null) return false;
  const { tenantId, userId } = change as Partial<Record<keyof RegistryChange, unknown>>;
  if (typeof tenantId !== 'string') return false;
  if (typeof userId === 'string') registry.invalidateMembership(tenantId, userId);
  else registry.invalidateTenant(tenantId);
  return true;
}

/** Applies every change notified on the database to `registry`. Resolves with a stop function. */
export async function listenForRegistryChanges(
  databaseUrl: string,
  registry: TenantRegistry,
  onError: (error: Error) => void,
): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', onError);
  client.on('notification', (message) => {
    if (message.channel === CHANNEL && message.payload) applyRegistryChange(registry, message.payload);
  });
  await client.connect();
  await client.query(`LISTEN ${CHANNEL}`);
  return async () => {
    await client.end().catch(() => {});
  };
}
