import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  SqlQueryable,
  Transaction,
} from '@prisma/driver-adapter-utils';
import type { TenantBinding } from './tenant-binding.js';

export interface TenantSession {
  /** The setting the row-level security policies read. */
  setting: string;
  /** A database role without BYPASSRLS that every statement runs as. */
  role: string;
}

/**
 * The connection every tenant client shares. A driver that can run a statement together with
 * settings as one implicit transaction — one message, no BEGIN or COMMIT — offers that through
 * `withSettings`, asking `settings()` for them as it sends each statement; otherwise each statement
 * gets an explicit transaction.
 */
export interface SharedConnection extends SqlDriverAdapter {
  withSettings?(settings: () => SqlQuery): Promise<SqlQueryable>;
}

/** Sets the tenant for row-level security and switches to the tenant role, both transaction-local. */
export const TENANT_SETTINGS_SQL = "SELECT set_config($1, $2, true), set_config('role', $3, true)";

/** A statement reached the connection of a client bound to no tenant: it is not sent. */
export class UnboundStatementError extends Error {
  override name = 'UnboundStatementError';
  constructor() {
    super('a statement reached a tenant connection that is bound to no tenant');
  }
}

const TEXT = { scalarType: 'string', arity: 'scalar' } as const;
const control = (sql: 'COMMIT' | 'ROLLBACK'): SqlQuery => ({ sql, args: [], argTypes: [] });

/**
 * A tenant client's connection: every statement runs in a transaction that first sets the bound
 * tenant for row-level security and switches to the tenant role —
 *
 *   SELECT set_config('app.tenant_id', $1, true), set_config('role', $2, true); <statement>
 *
 * as one implicit transaction where the driver offers it, else inside BEGIN … COMMIT — and so does
 * every transaction Prisma opens on it. The tenant is read from the client's binding as each
 * statement (or transaction) is sent, never from the async context the ORM runs it in; with no
 * tenant bound, nothing is sent. Both settings are transaction-local: a pooled connection never
 * carries them to another statement.
 */
export function tenantBoundAdapter(
  connection: SharedConnection,
  binding: TenantBinding,
  session: TenantSession,
): SqlDriverAdapterFactory {
  function enterTenant(): SqlQuery {
    const tenantId = binding.tenantId;
    if (tenantId === undefined) throw new UnboundStatementError();
    return { sql: TENANT_SETTINGS_SQL, args: [session.setting, tenantId, session.role], argTypes: [TEXT, TEXT, TEXT] };
  }

  async function begin(isolationLevel?: IsolationLevel): Promise<Transaction> {
    const settings = enterTenant();
    const transaction = await connection.startTransaction(isolationLevel);
    try {
      await transaction.executeRaw(settings);
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

  /** Runs one statement in its own explicit tenant transaction. */
  async function inTransaction<T>(run: (transaction: Transaction) => Promise<T>): Promise<T> {
    const transaction = await begin();
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

  async function connect(): Promise<SqlDriverAdapter> {
    const alone = await connection.withSettings?.(enterTenant);
    return {
      provider: connection.provider,
      adapterName: connection.adapterName,
      queryRaw: alone ? (query) => alone.queryRaw(query) : (query) => inTransaction((transaction) => transaction.queryRaw(query)),
      executeRaw: alone
        ? (query) => alone.executeRaw(query)
        : (query) => inTransaction((transaction) => transaction.executeRaw(query)),
      executeScript: () => Promise.reject(new Error('scripts do not run on a tenant connection')),
      startTransaction: begin,
      getConnectionInfo: connection.getConnectionInfo?.bind(connection),
      // The shared connection outlives every tenant client's view of it.
      dispose: async () => {},
    };
  }

  return { provider: connection.provider, adapterName: connection.adapterName, connect };
}
