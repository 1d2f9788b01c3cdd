import type { SqlQuery, SqlQueryable, Transaction } from '@prisma/driver-adapter-utils';
import type { SharedConnection } from '../tenancy/tenant-bound-adapter.js';

const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK)\b/i;

/**
 * The shared connection, reporting every statement sent through it — by Prisma or by the tenancy
 * layer (the tenant settings) — except transaction control. Tests and the benchmark count these.
 */
export function observeStatements(connection: SharedConnection, onStatement: (sql: string) => void): SharedConnection {
  const observed = (queryable: SqlQueryable) => ({
    queryRaw(query: SqlQuery) {
      if (!TRANSACTION_CONTROL.test(query.sql)) onStatement(query.sql);
      return queryable.queryRaw(query);
    },
    executeRaw(query: SqlQuery) {
      if (!TRANSACTION_CONTROL.test(query.sql)) onStatement(query.sql);
      return queryable.executeRaw(query);
    },
  });
  const observeTransaction = (transaction: Transaction): Transaction => ({
    provider: transaction.provider,
    adapterName: transaction.adapterName,
    options: transaction.options,
    ...observed(transaction),
    commit: () => transaction.commit(),
    rollback: () => transaction.rollback(),
    createSavepoint: transaction.createSavepoint?.bind(transaction),
    rollbackToSavepoint: transaction.rollbackToSavepoint?.bind(transaction),
    releaseSavepoint: transaction.releaseSavepoint?.bind(transaction),
  });
  return {
    provider: connection.provider,
    adapterName: connection.adapterName,
    ...observed(connection),
    executeScript: (script) => connection.executeScript(script),
    startTransaction: async (isolationLevel) => observeTransaction(await connection.startTransaction(isolationLevel)),
    getConnectionInfo: connection.getConnectionInfo?.bind(connection),
    dispose: () => connection.dispose(),
    ...(connection.withSettings ? { withSettings: observeWithSettings(connection.withSettings.bind(connection)) } : {}),
  };

  /**
   * Statements sent with their settings count as two, as they would in a transaction — and as none
   * when the settings cannot be had (no tenant bound), because then nothing is sent.
   */
  function observeWithSettings(withSettings: NonNullable<SharedConnection['withSettings']>) {
    return async (settings: () => SqlQuery) => {
      const queryable = await withSettings(settings);
      const observedQuery =
        <Result>(run: (query: SqlQuery) => Promise<Result>) =>
        (query: SqlQuery) => {
          try {
            onStatement(settings().sql);
          } catch (error) {
            return Promise.reject(error);
          }
          onStatement(query.sql);
          return run(query);
        };
      return {
        provider: queryable.provider,
        adapterName: queryable.adapterName,
        queryRaw: observedQuery((query) => queryable.queryRaw(query)),
        executeRaw: observedQuery((query) => queryable.executeRaw(query)),
      };
    };
  }
}
