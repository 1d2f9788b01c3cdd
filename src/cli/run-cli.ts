import { parseArgs } from 'node:util';
import { AdminError } from '../admin/admin-errors.js';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import type { Database } from '../db/create-database.js';
import { DatabaseInUseError, lockHolder } from '../db/data-dir-lock.js';
import type { RegistryChange } from '../db/registry-notifications.js';
import { helpFor, helpForGroup } from './command-help.js';
import { COMMANDS, USAGE } from './commands.js';

type Print = (line: string) => void;

/**
 * Runs one administrative command in this process; returns the process exit code. On the embedded
 * database held by a running server (`npm start`), the command is handed to that server over its
 * admin socket (src/admin/admin-socket-server.ts) and runs there, on the database it holds.
 * Otherwise the database is opened here; heavy modules are imported only then, so a command handed
 * to the server, or `--help`, starts in a fraction of the time.
 */
export async function runCli(
  argv: string[],
  out: Print = (line) => process.stdout.write(`${line}\n`),
  err: Print = (line) => process.stderr.write(`${line}\n`),
  options: {
    /** How long to wait for a server that holds the database to open its admin socket (15 s). */
    serverWaitMs?: number;
  } = {},
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const [group, action] = parsed.positionals;
  const name = `${group} ${action}`;
  if (group === 'help' || (parsed.values.help && !group)) {
    out(USAGE);
    return 0;
  }
  if (parsed.values.help) {
    const help = COMMANDS[name] ? helpFor(name) : helpForGroup(group ?? '');
    if (help) {
      out(help);
      return 0;
    }
  }
  if (!COMMANDS[name]) {
    err(group ? `unknown command: ${[group, action].filter(Boolean).join(' ')}\n\n${USAGE}` : USAGE);
    return 1;
  }
  try {
    const config = loadConfig(process.env, 'admin');
    // A few rounds at most: the database may change hands between the look and the open.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!config.databaseUrl && (await lockHolder(config.dataDir)) !== undefined) {
        const code = await handToServer(config.dataDir, argv, out, err, options.serverWaitMs);
        if (code !== 'released') return code;
      }
      try {
        return await runHere(config, argv, out, err);
      } catch (error) {
        // Taken between the look and the open: the next round asks whoever took it.
        if (!(error instanceof DatabaseInUseError)) throw error;
      }
    }
    throw new AdminError(`the embedded database in ${config.dataDir} keeps changing hands; try again`);
  } catch (error) {
    err(error instanceof AdminError || error instanceof ConfigError ? error.message : `failed: ${(error as Error).message}`);
    return 1;
  }
}

async function handToServer(dataDir: string, argv: string[], out: Print, err: Print, waitMs?: number) {
  const { sendToAdminSocket } = await import('./admin-socket-client.js');
  return sendToAdminSocket(dataDir, argv, out, err, {
    waitMs,
    stillHeld: async () => (await lockHolder(dataDir)) !== undefined,
  });
}

/**
 * Opens the database and brings it to the code's schema (with MIGRATE_ON_START=false, only checks
 * that it is there, as the server does). The start-up isolation check is not run: it guards the
 * statements a server runs for tenants, and the CLI runs none — it writes the shared tables as the
 * system role; a server checks again when it starts.
 */
async function runHere(config: Config, argv: string[], out: Print, err: Print): Promise<number> {
  const [{ createDatabase }, { assertMigrated, migrate }] = await Promise.all([
    import('../db/create-database.js'),
    import('../db/migrator.js'),
  ]);
  const database = await createDatabase(
    config.databaseUrl
      ? {
          databaseUrl: config.databaseUrl,
          directDatabaseUrl: config.directDatabaseUrl,
          poolSize: 2,
          preparedStatements: config.databasePreparedStatements,
        }
      : { dataDir: config.dataDir },
  );
  try {
    if (config.migrateOnStart) await migrate(database.sql);
    else await assertMigrated(database.sql);
    return await runCommandLine(argv, { config, database }, out, err);
  } finally {
    await database.close();
  }
}

/**
 * Runs one command line on an open, migrated database: the CLI's own, or the running server's for
 * a command handed to it. Refusals are messages and exit code 1, never a stack.
 */
export async function runCommandLine(
  argv: string[],
  deps: { config: Config; database: Database },
  out: Print,
  err: Print,
): Promise<number> {
  try {
    const parsed = parse(argv);
    const [group, action, ...rest] = parsed.positionals;
    const command = COMMANDS[`${group} ${action}`];
    if (!command) throw new AdminError(`unknown command: ${[group, action].filter(Boolean).join(' ')}`);
    const notify = notifier(deps.config, deps.database);
    const { help: _help, ...flags } = parsed.values;
    await command(rest, { ...deps, flags, out, err, notify });
    return 0;
  } catch (error) {
    err(error instanceof AdminError || error instanceof ConfigError ? error.message : `failed: ${(error as Error).message}`);
    return 1;
  }
}

/** Tells running servers that the registry changed: PostgreSQL NOTIFY, and Redis when configured. */
function notifier(config: Config, database: Database) {
  return async (change: RegistryChange) => {
    const { notifyRegistryChange } = await import('../db/registry-notifications.js');
    await notifyRegistryChange(database.sql, change);
    if (!config.redisUrl) return;
    const { connectRedis, REGISTRY_CHANNEL } = await import('../pubsub/redis.js');
    const redis = await connectRedis(config.redisUrl);
    try {
      await redis.publish(REGISTRY_CHANNEL, JSON.stringify(change));
    } finally {
      await redis.close();
    }
  };
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
      owner: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
