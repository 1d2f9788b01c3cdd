import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import type { TenantRegistry } from '../tenancy/tenant-registry.js';
import type { SqlRunner } from './sql-runner.js';

// Registry changes (suspension, membership) made by another process reach running servers through
// PostgreSQL's LISTEN/NOTIFY at once; the registry TTL is the upper bound when nothing is listening.

const CHANNEL = 'tenantgraph_registry';

/**
 * What changed: a tenant (`tenantId`, with its `slug` when known), one membership (`tenantId` and
 * `userId`), a user and with it all their memberships (`userId` alone), an identity (`issuer` and
 * `subject`: who a token names), or anything (`all`: a table was truncated).
 */
export interface RegistryChange {
  tenantId?: string;
  slug?: string;
  userId?: string;
  issuer?: string;
  subject?: string;
  all?: true;
}

export async function notifyRegistryChange(sql: SqlRunner, change: RegistryChange): Promise<void> {
  await notifyRegistryPayload(sql, JSON.stringify(change));
}

/** Sends `payload` on the registry channel. */
export async function notifyRegistryPayload(sql: SqlRunner, payload: string): Promise<void> {
  await sql.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
}

/**
 * Applies one notified change (from PostgreSQL or Redis). Anything malformed — not JSON, JSON that
 * is not an object, neither a tenant, a user id nor an identity — is ignored and answers false, so the caller can count it.
 */
export function applyRegistryChange(registry: TenantRegistry, payload: string): boolean {
  let change: unknown;
  try {
    change = JSON.parse(payload);
  } catch {
    return false;
  }
  if (typeof change !== 'object' || change === null) return false;
  const { tenantId, slug, userId, issuer, subject, all } = change as Partial<Record<keyof RegistryChange, unknown>>;
  if (all === true) {
    registry.invalidateAll();
    return true;
  }
  if (typeof tenantId === 'string') {
    if (typeof userId === 'string') registry.invalidateMembership(tenantId, userId);
    else registry.invalidateTenant(tenantId, typeof slug === 'string' ? slug : undefined);
    return true;
  }
  if (typeof issuer === 'string' && typeof subject === 'string') {
    registry.invalidateIdentity(issuer, subject);
    return true;
  }
  if (typeof userId === 'string') {
    registry.invalidateUser(userId);
    return true;
  }
  return false;
}

export interface RegistryListenerOptions {
  logger: Logger;
  /**
   * Sends a notification on the channel the way the server's own statements travel (through the
   * pool, so through a pooler if there is one). A heartbeat sent this way and heard on the LISTEN
   * connection is what tells the registry that changes are being pushed to it.
   */
  announce(payload: string): Promise<void>;
  /** How often the heartbeat goes out; one not heard by the next means changes are not arriving. */
  heartbeatMs?: number;
  /** Wait before the first attempt to listen again; it doubles on each failure, up to `maxRetryDelayMs`. */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Applies every change notified on the database to `registry`, over one dedicated connection (it
 * needs a session: behind a transaction pooler, DIRECT_DATABASE_URL). When PostgreSQL ends that
 * connection (restart, failover, idle timeout, pg_terminate_backend) it is made again, with bounded
 * backoff, for as long as the server runs.
 *
 * The registry trusts its answers for long only while changes are known to arrive: a heartbeat is
 * announced through the server's own pool every `heartbeatMs`, and once its NOTIFY is committed it
 * must be heard back within an interval. Heard, the registry is told changes are pushed; missed, or
 * the connection lost, it is told they are not — and drops its cache and trusts answers for
 * REGISTRY_TTL_MS only — until heartbeats are heard again; two missed in a row and it listens on a
 * new connection (one that died without telling never ends by itself). A heartbeat still waiting
 * for a pooled connection is not a miss: a busy pool says nothing of LISTEN. So a LISTEN that
 * silently hears nothing (through a pooler, a half-dead connection) costs at most two heartbeat
 * intervals of staleness beyond the TTL, never the long one. A LISTEN that has never heard one (a
 * transaction pooler, no DIRECT_DATABASE_URL) is said once, as such, and its reconnections are not
 * reported as losses and recoveries.
 * Resolves, once listening, with a function that stops it all.
 */
export async function listenForRegistryChanges(
  databaseUrl: string,
  registry: TenantRegistry,
  options: RegistryListenerOptions,
): Promise<() => Promise<void>> {
  const { logger } = options;
  const minDelay = options.minRetryDelayMs ?? 100;
  const maxDelay = options.maxRetryDelayMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let stopped = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  const instance = randomUUID();
  let beats = 0;
  /**
   * The heartbeat sent last and not yet heard back, and when its NOTIFY was committed (undefined
   * while it is still on its way: a busy pool delays the sending, which says nothing of LISTEN).
   */
  let unheard: { beat: string; sentAt?: number } | undefined;
  /** Heartbeats in a row that were sent and not heard. */
  let misses = 0;
  /**
   * Whether any heartbeat was ever heard back, on any connection. Never heard, LISTEN most likely
   * goes through a transaction pooler (it hears nothing there): said once, and the reconnections
   * that follow are not reported as losses and recoveries, which they are not.
   */
  let everHeard = false;
  let toldNeverHeard = false;

  const tick = () => {
    if (!current) return;
    if (unheard?.sentAt === undefined || Date.now() - unheard.sentAt < heartbeatMs / 2) {
      if (!unheard) sendHeartbeat();
      return;
    }
    // Sent, committed, and still not heard half an interval later or more: LISTEN is not hearing it.
    misses++;
    increment('registry_heartbeat_missed');
    if (registry.changesArePushed) {
      logger.warn(
        'registry notifications are not arriving (a transaction pooler in front of LISTEN? set DIRECT_DATABASE_URL); trusting registry answers for REGISTRY_TTL_MS only',
      );
      registry.changesPushed(false);
    }
    if (misses >= 2) {
      if (!everHeard && !toldNeverHeard) {
        toldNeverHeard = true;
        logger.warn(
          'registry notifications are never heard on this connection: LISTEN most likely goes through a transaction pooler (PgBouncer, Supavisor, RDS Proxy); set DIRECT_DATABASE_URL to PostgreSQL itself. Until then registry answers are trusted for REGISTRY_TTL_MS only',
        );
      }
      // A connection that died without telling (half-open TCP) would never end by itself: listen anew.
      misses = 0;
      const silent = current;
      current = undefined;
      scheduleRetry({ quiet: !everHeard });
      void silent.end().catch(() => {});
      return;
    }
    sendHeartbeat();
  };

  const sendHeartbeat = () => {
    const sent = { beat: `${instance}:${++beats}` } as { beat: string; sentAt?: number };
    unheard = sent;
    options.announce(JSON.stringify({ heartbeat: sent.beat })).then(
      () => {
        sent.sentAt = Date.now();
      },
      (error: unknown) => {
        if (unheard === sent) unheard = undefined;
        logger.warn({ err: error }, 'registry heartbeat could not be sent');
      },
    );
  };
  const heard = (beat: string) => {
    if (beat !== unheard?.beat) return;
    unheard = undefined;
    misses = 0;
    everHeard = true;
    if (!registry.changesArePushed) {
      registry.changesPushed(true);
      logger.info('registry changes are pushed: answers trusted until a change drops them');
    }
  };

  const listen = async (): Promise<pg.Client> => {
    // A server that does not answer must not stall the retries forever.
    // TCP keepalive: after a network partition the connection would otherwise never end, and never
    // come back, while notifications silently stopped.
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, keepAlive: true });
    // pg emits 'error' when the server ends the connection; without a listener that ends the process.
    client.on('error', (error) => logger.warn({ err: error }, 'registry notification connection failed'));
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL) return;
      const beat = heartbeatOf(message.payload);
      if (beat !== undefined) return heard(beat);
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

  /** `quiet`: a connection that never heard anything is replaced, not lost (no warning each time). */
  const scheduleRetry = ({ quiet = false } = {}) => {
    current = undefined;
    registry.changesPushed(false);
    if (stopped || retry) return;
    const delay = Math.min(maxDelay, minDelay * 2 ** failures);
    if (!quiet)
      logger.warn({ retryInMs: delay }, 'registry notifications lost; listening again soon (until then: the cache TTL)');
    else logger.debug({ retryInMs: delay }, 'registry notifications not heard yet; listening on a new connection soon');
    retry = setTimeout(() => {
      retry = undefined;
      listen().then(
        async (client) => {
          if (stopped) return client.end().catch(() => {});
          current = client;
          failures = 0;
          unheard = undefined;
          // Anything notified while nobody listened was missed: forget every cached answer.
          registry.invalidateAll();
          increment('registry_listen_reconnected');
          if (everHeard) logger.warn('registry notifications re-established; registry cache flushed');
          else logger.debug('listening for registry notifications again (none heard yet)');
          sendHeartbeat();
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
  sendHeartbeat();
  const heartbeat = setInterval(tick, heartbeatMs);
  heartbeat.unref();
  return async () => {
    stopped = true;
    clearInterval(heartbeat);
    registry.changesPushed(false);
    clearTimeout(retry);
    retry = undefined;
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}

/** The heartbeat a notification carries, if it is one (any instance's: only our own are awaited). */
function heartbeatOf(payload: string | undefined): string | undefined {
  if (!payload?.startsWith('{"heartbeat"')) return undefined;
  try {
    const { heartbeat } = JSON.parse(payload) as { heartbeat?: unknown };
    return typeof heartbeat === 'string' ? heartbeat : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The embedded database: every change is made in this process (the data folder is locked to it),
 * and its notifications are delivered in-process, so changes are pushed for as long as it runs.
 */
export async function listenInProcess(
  listen: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>,
  registry: TenantRegistry,
): Promise<() => Promise<void>> {
  const stop = await listen(CHANNEL, (payload) => {
    if (!applyRegistryChange(registry, payload)) increment('registry_notification_dropped');
  });
  registry.changesPushed(true);
  return async () => {
    registry.changesPushed(false);
    await stop();
  };
}
