/**
 * The small slice of a SQL driver that the migrator, the start-up check and the tests need, so the
 * same code runs on PGlite and on PostgreSQL. Prisma is for application queries; this is for DDL.
 */
export interface SqlSession {
  /** One parameterised statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of several statements, without parameters. */
  exec(script: string): Promise<void>;
}

export interface SqlRunner extends SqlSession {
  /** Runs `work` on one dedicated connection (session-level locks, explicit transactions). */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
}
