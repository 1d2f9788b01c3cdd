import type { Pool, PoolClient } from 'pg';
import type { SqlRunner, SqlSession } from './sql-runner.js';

function sessionOf(client: Pool | PoolClient): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(script: string) {
      await client.query(script);
    },
  };
}

/** Statements through `pool`; sessions from `sessionPool()` (the direct connection, behind a pooler). */
export function createPgRunner(pool: Pool, sessionPool: () => Pool = () => pool): SqlRunner {
  return {
    ...sessionOf(pool),
    async withSession(work) {
      const client = await sessionPool().connect();
      try {
        return await work(sessionOf(client));
      } finally {
        client.release();
      }
    },
  };
}
