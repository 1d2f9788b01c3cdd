import type { SqlDriverAdapter, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';

const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK)\b/i;

/**
 * The shared connection, reporting every statement sent through it — by Prisma or by the tenancy
 * layer (the tenant settings) — except transaction control. Tests and the benchmark count these.
 */
export function observeStatements(connection: SqlDriverAdapter, onStatement: (sql: string) => void): SqlDriverAdapter {
  const observed = (queryable: Pick<SqlDriverAdapter, 'queryRaw' | 'executeRaw'>) => ({
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
  };
}
