import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
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

export interface RegistryListenerOptions {
  logger: Logger;
  /** Wait before the first attempt to listen again; it doubles on each failure, up to `maxRetryDelayMs`. */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Applies every change notified on the database to `registry`, over one dedicated connection.
 * When PostgreSQL ends that connection (restart, failover, idle timeout, pg_terminate_backend) it
 * is made again, with bounded backoff, for as long as the server runs; until then changes take up
 * to REGISTRY_TTL_MS. Each time it listens again the whole cache is dropped: changes notified
 * while nobody listened are lost. Resolves, once listening, with a function that stops it all.
 */
export async function listenForRegistryChanges(
  databaseUrl: string,
  registry: TenantRegistry,
  options: RegistryListenerOptions,
): Promise<() => Promise<void>> {
  const { logger } = options;
  const minDelay = options.minRetryDelayMs ?? 100;
  const maxDelay = options.maxRetryDelayMs ?? 5_000;
  let stopped = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const listen = async (): Promise<pg.Client> => {
    // A server that does not answer must not stall the retries forever.
    // TCP keepalive: after a network partition the connection would otherwise never end, and never
    // come back, while notifications silently stopped.
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, keepAlive: true });
    // pg emits 'error' when the server ends the connection; without a listener that ends the process.
    client.on('error', (error) => logger.warn({ err: error }, 'registry notification connection failed'));
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL) return;
      if (!message.payload || !applyRegistryChange(registry, message.payload)) increment('registry_notification_dropped');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    client.once('end', () => {
      if (client === current) scheduleRetry();
    });
    return client;
  };

  const scheduleRetry = () => {
    current = undefined;
    if (stopped || retry) return;
    const delay = Math.min(maxDelay, minDelay * 2 ** failures);
    logger.warn({ retryInMs: delay }, 'registry notifications lost; listening again soon (until then: the cache TTL)');
    retry = setTimeout(() => {
      retry = undefined;
      listen().then(
        async (client) => {
          if (stopped) return client.end().catch(() => {});
          current = client;
          failures = 0;
          // Anything notified while nobody listened was missed: forget every cached answer.
          registry.invalidateAll();
          increment('registry_listen_reconnected');
          logger.warn('registry notifications re-established; registry cache flushed');
        },
        (error: unknown) => {
          failures++;
          logger.warn({ err: error }, 'listening for registry notifications failed');
          scheduleRetry();
        },
      );
    }, delay);
    retry.unref();
  };

  current = await listen();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    retry = undefined;
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}
