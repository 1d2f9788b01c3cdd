import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlQuery, SqlQueryable } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { inlineValues, lastResult, type QueryConfig } from './merged-tenant-begin.js';

/**
 * Tenant statements on PostgreSQL, each sent with its settings as one message:
 *
 *   SELECT set_config('app.tenant_id', '…', true), set_config('role', '…', true); <statement>
 *
 * PostgreSQL runs a multi-statement message as one implicit transaction, so the settings hold for
 * the statement and end with the message, and a write is committed before its answer arrives: one
 * round trip, with nothing left to send or hold afterwards (BEGIN … COMMIT needs two and keeps the
 * connection until the second). Values are inlined as escaped literals: the simple protocol
 * carries no parameters.
 *
 * PrismaPg turns pg's rows into Prisma's (column types, parsers) and only takes a pg.Pool; the one
 * it gets here is a view of the real pool whose `query` puts the settings in front.
 */
export async function pgStatementsWithSettings(pool: pg.Pool, settings: SqlQuery): Promise<SqlQueryable> {
  const prelude = inlineValues(settings.sql, settings.args);
  const view = Object.create(pg.Pool.prototype) as pg.Pool;
  Object.assign(view, {
    options: pool.options,
    on: () => view,
    removeListener: () => view,
    async query(config: QueryConfig) {
      const client = await pool.connect();
      try {
        const text = `${prelude};\n${inlineValues(config.text, config.values ?? [])}`;
        const result = lastResult(await client.query({ text, rowMode: config.rowMode, types: config.types } as never));
        client.release();
        return result;
      } catch (error) {
        // An SQL error leaves the connection idle (the implicit transaction is over); anything
        // else may have broken it, so it is discarded.
        client.release(error instanceof pg.DatabaseError ? undefined : (error as Error));
        throw error;
      }
    },
  });
  return new PrismaPg(view).connect();
}
