import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  Transaction,
} from '@prisma/driver-adapter-utils';

export interface TenantSession {
  /** The setting the row-level security policies read. */
  setting: string;
  /** A database role without BYPASSRLS that every statement runs as. */
  role: string;
}

/** Sets the tenant for row-level security and switches to the tenant role, both transaction-local. */
export const TENANT_SETTINGS_SQL = "SELECT set_config($1, $2, true), set_config('role', $3, true)";

/**
 * The same, for a transaction that will run exactly one statement and end: a driver may send the
 * settings and that statement as one message without BEGIN/COMMIT — PostgreSQL runs a
 * multi-statement message as one implicit transaction (src/db/merged-tenant-begin.ts).
 */
export const TENANT_SETTINGS_FOR_ONE_STATEMENT_SQL = `${TENANT_SETTINGS_SQL} /* one statement */`;

const TEXT = { scalarType: 'string', arity: 'scalar' } as const;
const control = (sql: 'COMMIT' | 'ROLLBACK'): SqlQuery => ({ sql, args: [], argTypes: [] });

/**
 * One tenant's view of a shared database connection: every statement runs in a transaction that
 * first sets the tenant for row-level security and switches to the tenant role —
 *
 *   BEGIN; SELECT set_config('app.tenant_id', $1, true), set_config('role', $2, true); <statement>; COMMIT
 *
 * — and so does every transaction Prisma opens on it. The tenant is fixed when the view is made,
 * so nothing here depends on which request's async context the ORM happens to run a statement in.
 * Both settings are transaction-local: a pooled connection never carries them to another statement.
 */
export function tenantBoundAdapter(
  connection: SqlDriverAdapter,
  tenantId: string,
  session: TenantSession,
): SqlDriverAdapterFactory {
  const settings = (sql: string): SqlQuery => ({
    sql,
    args: [session.setting, tenantId, session.role],
    argTypes: [TEXT, TEXT, TEXT],
  });
  const enterTenant = settings(TENANT_SETTINGS_SQL);
  const enterTenantForOneStatement = settings(TENANT_SETTINGS_FOR_ONE_STATEMENT_SQL);

  async function begin(isolationLevel?: IsolationLevel, enter = enterTenant): Promise<Transaction> {
    const transaction = await connection.startTransaction(isolationLevel);
    try {
      await transaction.executeRaw(enter);
    } catch (error) {
      await end(transaction, 'ROLLBACK').catch(() => {});
      throw error;
    }
    return transaction;
  }

  async function end(transaction: Transaction, how: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    // Adapters with phantom queries send COMMIT/ROLLBACK themselves; the others expect the caller to.
    if (!transaction.options.usePhantomQuery) {
      try {
        await transaction.executeRaw(control(how));
      } catch (error) {
        await transaction.rollback();
        throw error;
      }
    }
    await (how === 'COMMIT' ? transaction.commit() : transaction.rollback());
  }

  /** Runs one statement in its own tenant transaction. */
  async function alone<T>(run: (transaction: Transaction) => Promise<T>): Promise<T> {
    const transaction = await begin(undefined, enterTenantForOneStatement);
    let result: T;
    try {
      result = await run(transaction);
    } catch (error) {
      await end(transaction, 'ROLLBACK').catch(() => {});
      throw error;
    }
    await end(transaction, 'COMMIT');
    return result;
  }

  const adapter: SqlDriverAdapter = {
    provider: connection.provider,
    adapterName: connection.adapterName,
    queryRaw: (query) => alone((transaction) => transaction.queryRaw(query)),
    executeRaw: (query) => alone((transaction) => transaction.executeRaw(query)),
    executeScript: () => Promise.reject(new Error('scripts do not run on a tenant connection')),
    startTransaction: (isolationLevel) => begin(isolationLevel),
    getConnectionInfo: connection.getConnectionInfo?.bind(connection),
    // The shared connection outlives every tenant's view of it.
    dispose: async () => {},
  };
  return {
    provider: connection.provider,
    adapterName: connection.adapterName,
    connect: async () => adapter,
  };
}
