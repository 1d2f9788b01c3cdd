#!/usr/bin/env node
import { resolve } from 'node:path';
import { describeUrl, reasonOf, StartupError } from '../config/startup-error.js';
import { createDatabase } from '../db/create-database.js';
import { DatabaseInUseError } from '../db/data-dir-lock.js';
import { MigrationError, migrate } from '../db/migrator.js';
import { waitForDatabase } from '../db/wait-for-database.js';

/**
 * `npm run migrate` (in the image: `tenantgraph-migrate`): applies pending migrations as the role of
 * DIRECT_DATABASE_URL, else DATABASE_URL — the schema's owner — so that the server itself can run
 * as a role that owns nothing (MIGRATE_ON_START=false). Without either it migrates the embedded
 * database in DATA_DIR. Reads only these settings: an init job needs no issuer or port.
 */
async function main(): Promise<void> {
  const env = process.env;
  const url = env.DIRECT_DATABASE_URL || env.DATABASE_URL;
  const setting = env.DIRECT_DATABASE_URL ? 'DIRECT_DATABASE_URL' : 'DATABASE_URL';
  if (url && !/^postgres(ql)?:\/\//.test(url)) throw new StartupError(setting, 'must be a postgres:// or postgresql:// URL');
  const timeoutMs = Number(env.DATABASE_START_TIMEOUT_MS || 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
    throw new StartupError('DATABASE_START_TIMEOUT_MS', 'must be a whole number of ms');
  const database = await createDatabase(url ? { databaseUrl: url, poolSize: 1 } : { dataDir: resolve(env.DATA_DIR || '.data') });
  try {
    if (url) {
      await waitForDatabase(database.sql, {
        timeoutMs,
        databaseUrl: url,
        databaseUrlSetting: setting,
        onRetry: (_setting, reason, delayMs) =>
          process.stderr.write(`tenantgraph-migrate: ${setting} not reachable yet (${reason}); retrying in ${delayMs} ms\n`),
      });
    }
    const { applied } = await migrate(database.sql).catch((error: unknown) => {
      if ((error as { code?: unknown })?.code === '42501') {
        throw new StartupError(setting, `${reasonOf(error)} (migrations run as the schema's owner)`);
      }
      throw error;
    });
    const where = url ? describeUrl(url) : 'the embedded database';
    process.stdout.write(applied.length > 0 ? `applied to ${where}: ${applied.join(', ')}\n` : `${where} is up to date\n`);
  } finally {
    await database.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof StartupError || error instanceof MigrationError || error instanceof DatabaseInUseError;
    process.stderr.write(
      `tenantgraph-migrate: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}\n`,
    );
    process.exit(1);
  },
);
