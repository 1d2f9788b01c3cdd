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

export function createPgRunner(pool: Pool): SqlRunner {
  return {
    ...sessionOf(pool),
    async withSession(work) {
      const client = await pool.connect();
      try {
        return await work(sessionOf(client));
      } finally {
        client.release();
      }
    },
  };
}
