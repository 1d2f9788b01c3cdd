import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlQuery, SqlQueryable } from '@prisma/driver-adapter-utils';
import pg, { type QueryResult } from 'pg';
import type { QueryConfig } from './merged-tenant-begin.js';
import { isMissingPreparedStatement, mayHaveFailedToParse, type PreparedStatements } from './prepared-statements.js';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

/** What pg's connection offers a query while it is being sent (pg/lib/connection.js). */
interface ProtocolWriter {
  /** The statements prepared on this connection, by name: pg's own record, which it reads before a Parse. */
  parsedStatements: Record<string, string | undefined>;
  parse(config: { text: string; name: string; types: unknown[] }): void;
  bind(config: { statement: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(config: Record<string, never>): void;
}

/** pg's own query, as far as a subclass sees it (pg/lib/query.js). */
interface PgQuery {
  prepare(connection: ProtocolWriter): void;
  requiresPreparation(): boolean;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: unknown): void;
}
const PgQuery = pg.Query as unknown as new (config: object) => PgQuery;

/**
 * A statement sent behind the tenant settings, in one write and one implicit transaction (the
 * extended protocol runs everything up to the Sync as one):
 *
 *   Parse/Bind/Execute <settings>(setting, tenant, role) · Parse/Bind/Describe/Execute <statement> · Sync
 *
 * Each is named when `prepared` gives it a name on this connection (src/db/prepared-statements.ts):
 * then PostgreSQL parses and plans it once per connection, and later requests send only its Bind.
 * Unnamed, nothing outlives the Sync on the connection, which is what a transaction pooler without
 * prepared statements needs.
 *
 * The settings hold for the statement and end with it; a write is committed at the Sync, before its
 * answer. The settings statement's own row and completion are not the caller's: they are skipped.
 * Should the settings fail, PostgreSQL skips the statement and the query fails with their error.
 *
 * It extends pg's Query through hooks pg 8 does not document (`prepare`, the message handlers); the
 * wire test in rls-backstop.test.ts pins the
 * messages it sends, so an upgrade that changes them fails there.
 */
class SettingsFirstQuery extends PgQuery {
  private settingsPending = true;

  constructor(
    config: object,
    private readonly settings: SqlQuery,
    /** The settings statement's name on this connection, or undefined to send it unnamed. */
    private readonly settingsName: string | undefined,
  ) {
    super(config);
  }

  /** Whether the query failed before its settings were through (the connection is then suspect). */
  get failedInSettings(): boolean {
    return this.settingsPending;
  }

  override requiresPreparation(): boolean {
    return true;
  }

  override prepare(connection: ProtocolWriter): void {
    const name = this.settingsName ?? '';
    if (!name || connection.parsedStatements[name] === undefined) connection.parse({ text: this.settings.sql, name, types: [] });
    connection.bind({ statement: name, values: [...this.settings.args], valueMapper: prepareValue });
    connection.execute({});
    super.prepare(connection);
  }

  override handleDataRow(message: unknown): void {
    if (!this.settingsPending) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown, connection: unknown): void {
    if (!this.settingsPending) {
      super.handleCommandComplete(message, connection);
      return;
    }
    this.settingsPending = false;
    // Through: a named settings statement is prepared here from now on (pg keeps no record of
    // statements it did not send itself). Should the settings fail, the connection is discarded.
    if (this.settingsName) (connection as ProtocolWriter).parsedStatements[this.settingsName] = this.settings.sql;
  }
}

/**
 * Tenant statements on PostgreSQL, each sent behind its settings —
 * `SELECT set_config($1, $2, true), set_config('role', $3, true)` with the setting, the tenant and the
 * tenant role, asked of `settings()` as the statement goes out — in one round trip and one implicit
 * transaction, with nothing left to send or hold afterwards (BEGIN … COMMIT needs two round trips
 * and keeps the connection until the second). The statement keeps its parameters, as Prisma sent
 * them. When `settings()` throws (no tenant bound) the statement is not sent. Both are kept
 * prepared on the connection where `prepared` names them (SettingsFirstQuery).
 *
 * PrismaPg turns pg's rows into Prisma's (column types, parsers) and only takes a pg.Pool; the one
 * it gets here is a view of the real pool whose `query` puts the settings in front.
 */
export async function pgStatementsWithSettings(
  pool: pg.Pool,
  settings: () => SqlQuery,
  prepared: PreparedStatements,
  onPreparedStatementsDisabled: (error: Error) => void = () => {},
): Promise<SqlQueryable> {
  /** Sends `config` behind its settings; `sent.named` says whether it went under a name. */
  const send = async (config: QueryConfig, enterTenant: SqlQuery, sent: { named: boolean }): Promise<QueryResult> => {
    // With a callback: a single statement, which the pool's transaction merging leaves alone
    // (src/db/merged-tenant-begin.ts): its bookkeeping, meant for transactions, cost ~5 µs a statement.
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      pool.connect((error, connected) => (error ? reject(error) : resolve(connected as pg.PoolClient))),
    );
    const connection = (client as unknown as { connection: object }).connection;
    const name = prepared.nameFor(config.text, connection);
    const settingsName = prepared.nameFor(enterTenant.sql, connection);
    sent.named = name !== undefined || settingsName !== undefined;
    let query: SettingsFirstQuery | undefined;
    try {
      const result = await new Promise<QueryResult>((resolve, reject) => {
        const callback = (error: Error | undefined, answer: QueryResult) => (error ? reject(error) : resolve(answer));
        // Object.assign, not a spread: on Node 20 a spread copy given a new key (callback) costs ~1 µs
        // (a new hidden class per call; see withKeys in src/tenancy/tenant-scope.ts).
        query = new SettingsFirstQuery(Object.assign({}, config, { callback, name }), enterTenant, settingsName);
        client.query(query as never);
      });
      client.release();
      return result;
    } catch (error) {
      // An SQL error in the statement leaves the connection idle (the implicit transaction is
      // over). Anything else — a failure in the settings, or a named statement's error that may
      // have come at its Parse (pg's record of what is prepared there is then wrong) — may have
      // broken it: discarded.
      const reusable =
        error instanceof pg.DatabaseError &&
        query !== undefined &&
        !query.failedInSettings &&
        !(name !== undefined && mayHaveFailedToParse(error));
      client.release(reusable ? undefined : (error as Error));
      throw error;
    }
  };
  const view = Object.create(pg.Pool.prototype) as pg.Pool;
  Object.assign(view, {
    options: pool.options,
    on: () => view,
    removeListener: () => view,
    async query(config: QueryConfig) {
      const enterTenant = settings();
      const sent = { named: false };
      try {
        return await send(config, enterTenant, sent);
      } catch (error) {
        // A named statement missing on its connection, or its name taken there, before anything
        // ran: a transaction pooler without prepared statements. Naming ends for the process (said
        // once, whichever of the statements in flight finds it first) and the statement goes
        // again, unnamed.
        if (!sent.named || !isMissingPreparedStatement(error)) throw error;
        if (prepared.active) {
          prepared.disable();
          onPreparedStatementsDisabled(error as Error);
        }
        return await send(config, enterTenant, sent);
      }
    },
  });
  return new PrismaPg(view).connect();
}
