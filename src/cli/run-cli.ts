import { parseArgs } from 'node:util';
import { AdminError } from '../admin/admin-errors.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/create-database.js';
import { DatabaseInUseError } from '../db/data-dir-lock.js';
import { prepareDatabase } from '../db/prepare-database.js';
import { notifyRegistryChange, type RegistryChange } from '../db/registry-notifications.js';
import { connectRedis, REGISTRY_CHANNEL } from '../pubsub/redis.js';
import { COMMANDS, USAGE } from './commands.js';

/** Runs one administrative command; returns the process exit code. */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const [group, action, ...rest] = parsed.positionals;
  const command = COMMANDS[`${group} ${action}`];
  if (!command) {
    err(group ? `unknown command: ${[group, action].filter(Boolean).join(' ')}\n\n${USAGE}` : USAGE);
    return 1;
  }
  try {
    const config = loadConfig();
    const database = await createDatabase(
      config.databaseUrl
        ? { databaseUrl: config.databaseUrl, directDatabaseUrl: config.directDatabaseUrl, poolSize: 2 }
        : { dataDir: config.dataDir },
    );
    try {
      await prepareDatabase(database, { migrate: config.migrateOnStart });
      const notify = async (change: RegistryChange) => {
        await notifyRegistryChange(database.sql, change);
        if (!config.redisUrl) return;
        const redis = await connectRedis(config.redisUrl);
        try {
          await redis.publish(REGISTRY_CHANNEL, JSON.stringify(change));
        } finally {
          await redis.close();
        }
      };
      await command(rest, { config, database, flags: parsed.values, out, notify });
    } finally {
      await database.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof DatabaseInUseError) {
      err(`${error.message}\n(the embedded database serves one process at a time; stop the server to administer it)`);
    } else if (error instanceof AdminError || error instanceof ConfigError) {
      err(error.message);
    } else {
      err(`failed: ${(error as Error).message ?? String(error)}`);
    }
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      plan: { type: 'string' },
      role: { type: 'string' },
      user: { type: 'string' },
      tenant: { type: 'string' },
      ttl: { type: 'string' },
      subject: { type: 'string' },
      issuer: { type: 'string' },
    },
  });
}
