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

/** Applies one notified change (from PostgreSQL or Redis); anything malformed is ignored. */
export function applyRegistryChange(registry: TenantRegistry, payload: string): void {
  let change: Partial<RegistryChange>;
  try {
    change = JSON.parse(payload) as Partial<RegistryChange>;
  } catch {
    return;
  }
  if (typeof change.tenantId !== 'string') return;
  if (typeof change.userId === 'string') registry.invalidateMembership(change.tenantId, change.userId);
  else registry.invalidateTenant(change.tenantId);
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
