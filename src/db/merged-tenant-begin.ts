import { createRequire } from 'node:module';
import pg, { type Pool, type PoolClient, type QueryResult } from 'pg';
import { TENANT_SETTINGS_SQL } from '../tenancy/tenant-bound-adapter.js';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

/** What pg's `client.query` takes, as far as the driver adapters use it. */
export interface QueryConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
  types?: unknown;
  name?: string;
}

/** A held-back BEGIN, and the tenant settings statement once it arrives (inlined). */
interface Deferred {
  enterTenant?: string;
}

const accepted = (command: string, rowCount: number): QueryResult =>
  ({ command, rowCount, oid: 0, rows: [], fields: [] }) as QueryResult;

/** What one checkout of a connection is in the middle of. */
interface Checkout {
  /** BEGIN (and the tenant settings) held back until the first real statement. */
  deferred?: Deferred;
  /** In a merged tenant transaction, and whether it has only read so far. */
  tenantTransaction?: { readOnly: boolean };
  /** A read-only tenant transaction's COMMIT, still on its way. */
  pendingCommit?: Promise<unknown>;
}

const isRead = (sql: string) => /^\s*SELECT\b/i.test(sql);

/**
 * Cuts the round trips of a tenant transaction (one Prisma opens: nested writes, `$transaction`)
 * from four to one for a read, two for a write. The tenancy layer starts each as `BEGIN` ·
 * `SELECT set_config(…)` · the first statement, each awaited in turn; on a pooled PostgreSQL
 * connection that is a network round trip each. (A statement outside a transaction needs none of
 * this: src/db/pg-tenant-statements.ts sends it behind its settings in one round trip.)
 *
 * - `BEGIN` and the tenant settings are held back and sent with the first real statement as one
 *   simple-protocol message — `BEGIN; SELECT set_config(…); <statement>` — which PostgreSQL runs in
 *   order, planning the statement after the role switch, so row-level security applies as before.
 * - The `COMMIT` of a transaction that has only read is answered at once and sent behind the
 *   result; the connection goes back to the pool only once it is done (a failed COMMIT discards
 *   the connection). A transaction that wrote waits for its COMMIT as before.
 *
 * The transaction and its transaction-local settings are unchanged: this is as safe under
 * transaction pooling as the unmerged form. Values are inlined as escaped literals, because the
 * simple protocol carries no parameters.
 *
 * Only `pool.connect()` without a callback is watched — how the driver adapter checks out a
 * connection for a transaction. A checkout with a callback (pg's own `pool.query`, the tenant's
 * settings-first statements) runs single statements and passes through untouched, at no cost.
 */
export function mergeTenantBegin(pool: Pool, options: { onSend?: (sql: string) => void } = {}): Pool {
  const connect = pool.connect.bind(pool) as () => Promise<PoolClient>;
  const patched = new WeakSet<PoolClient>();
  const checkouts = new WeakMap<PoolClient, Checkout>();
  (pool as { connect: unknown }).connect = async (...args: unknown[]) => {
    if (args.length > 0) return (connect as (...a: unknown[]) => unknown)(...args);
    const client = await connect();
    const checkout: Checkout = {};
    checkouts.set(client, checkout);
    const release = client.release.bind(client);
    client.release = (error?: Error | boolean) => {
      // The checkout is over: a later checkout of this connection starts with no state of its own.
      checkouts.delete(client);
      if (!checkout.pendingCommit) return release(error);
      checkout.pendingCommit.then(
        () => release(error),
        (commitError: Error) => release(commitError),
      );
    };
    if (!patched.has(client)) {
      patched.add(client);
      const query = client.query.bind(client) as (config: unknown) => Promise<QueryResult | QueryResult[]>;
      const send = (config: unknown) => {
        options.onSend?.(typeof config === 'string' ? config : (config as QueryConfig).text);
        return query(config);
      };
      (client as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
        const current = checkouts.get(client);
        if (rest.length > 0 || !isQueryConfig(config) || !current)
          return (query as (...a: unknown[]) => unknown)(config, ...rest);
        return queryThrough(current, send, config);
      };
    }
    return client;
  };

  async function queryThrough(
    checkout: Checkout,
    send: (config: unknown) => Promise<QueryResult | QueryResult[]>,
    config: QueryConfig,
  ): Promise<QueryResult> {
    const values = config.values ?? [];
    const { deferred, tenantTransaction } = checkout;
    if (config.text === 'BEGIN' && values.length === 0 && !deferred && !tenantTransaction) {
      checkout.deferred = {};
      return accepted('BEGIN', 0);
    }
    if (tenantTransaction) {
      if (config.text === 'COMMIT' && tenantTransaction.readOnly) {
        checkout.tenantTransaction = undefined;
        checkout.pendingCommit = send('COMMIT');
        checkout.pendingCommit.catch(() => {});
        return accepted('COMMIT', 0);
      }
      if (config.text === 'COMMIT' || config.text === 'ROLLBACK') checkout.tenantTransaction = undefined;
      else if (!isRead(config.text)) tenantTransaction.readOnly = false;
      return (await send(config)) as QueryResult;
    }
    if (!deferred) return (await send(config)) as QueryResult;
    if (!deferred.enterTenant && config.text === TENANT_SETTINGS_SQL && values.length === 3) {
      deferred.enterTenant = inlineValues(config.text, values);
      return accepted('SELECT', 1);
    }
    checkout.deferred = undefined;
    if (!deferred.enterTenant || config.name) {
      // Not a tenant transaction (or a named statement): send what was held back as it was.
      await send('BEGIN');
      if (deferred.enterTenant) await send(deferred.enterTenant);
      return (await send(config)) as QueryResult;
    }
    checkout.tenantTransaction = { readOnly: isRead(config.text) };
    const merged = ['BEGIN', deferred.enterTenant, inlineValues(config.text, values)].join(';\n');
    return lastResult(await send({ text: merged, rowMode: config.rowMode, types: config.types }));
  }

  return pool;
}

/** The result of the last statement of a multi-statement message. */
function lastResult(results: QueryResult | QueryResult[]): QueryResult {
  return (Array.isArray(results) ? results[results.length - 1] : results) as QueryResult;
}

function isQueryConfig(value: unknown): value is QueryConfig {
  return typeof value === 'object' && value !== null && typeof (value as QueryConfig).text === 'string';
}

/** Replaces `$n` placeholders outside quoted strings and identifiers with escaped literals. */
export function inlineValues(sql: string, values: readonly unknown[]): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    if (char === "'" || char === '"') {
      const end = closingQuote(sql, i, char);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    const placeholder = char === '$' ? /^\$(\d+)/.exec(sql.slice(i)) : null;
    if (placeholder) {
      const index = Number(placeholder[1]) - 1;
      if (index < 0 || index >= values.length) throw new Error(`no value for placeholder $${index + 1}`);
      out += literal(values[index]);
      i += placeholder[0].length;
      continue;
    }
    out += char;
    i++;
  }
  return out;
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function literal(value: unknown): string {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  if (Buffer.isBuffer(prepared)) return `'\\x${prepared.toString('hex')}'::bytea`;
  return pg.escapeLiteral(String(prepared));
}
