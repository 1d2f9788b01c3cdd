import type { PGlite } from '@electric-sql/pglite';
import type { SqlRunner, SqlSession } from './sql-runner.js';

export function createPgliteRunner(pglite: PGlite): SqlRunner {
  const session: SqlSession = {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await pglite.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script: string) {
      await pglite.exec(script);
    },
  };
  // PGlite is a single connection: every session is that connection.
  return { ...session, withSession: (work) => work(session) };
}
