import { serveAdminSocket } from './admin/admin-socket-server.js';
import { createApp } from './app.js';
import { loadOrCreateDevSigningKey } from './auth/dev-signing-key.js';
import { issueDevToken } from './auth/issue-token.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import { trustedIssuers } from './auth/trusted-issuers.js';
import { runCommandLine } from './cli/run-cli.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { describeUrl, reasonOf, StartupError } from './config/startup-error.js';
import { createDatabase } from './db/create-database.js';
import { DatabaseInUseError } from './db/data-dir-lock.js';
import { MigrationError } from './db/migrator.js';
import { prepareDatabase } from './db/prepare-database.js';
import { PREPARED_STATEMENTS_DISABLED } from './db/prepared-statements.js';
import { listenForRegistryChanges, listenInProcess, notifyRegistryPayload } from './db/registry-notifications.js';
import { waitForDatabase } from './db/wait-for-database.js';
import { createLogger, type Logger } from './observability/logger.js';
import { increment } from './observability/metrics.js';
import { createRedisDocumentStore } from './plugins/persisted-document-store.js';
import { connectRedis } from './pubsub/redis.js';
import { applyRegistryChangesFromRedis } from './pubsub/redis-registry-changes.js';
import { demoLogins, seedDemoIfEmpty } from './seed/demo-data.js';
import { IsolationCheckError } from './tenancy/isolation-check.js';

/** Set once the server listens: until then, an event loop that runs dry means start-up was lost. */
let listening = false;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  handleWhatNothingElseDid(logger);
  logger.info(startUpSettings(config), 'start-up settings');
  const database = await createDatabase(
    config.databaseUrl
      ? {
          databaseUrl: config.databaseUrl,
          directDatabaseUrl: config.directDatabaseUrl,
          poolSize: config.databasePoolSize,
          preparedStatements: config.databasePreparedStatements,
          onConnectionError: (error) => logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
          onPreparedStatementsDisabled: (error) => logger.warn({ err: error }, PREPARED_STATEMENTS_DISABLED),
        }
      : { dataDir: config.dataDir },
  ).catch((error: NodeJS.ErrnoException) => {
    if (!config.databaseUrl && (error.code === 'EACCES' || error.code === 'EROFS')) {
      throw new StartupError('DATA_DIR', `cannot write the embedded database in ${config.dataDir} (${error.code})`);
    }
    throw error;
  });
  try {
    if (config.databaseUrl) {
      await waitForDatabase(database.sql, {
        timeoutMs: config.databaseStartTimeoutMs,
        databaseUrl: config.databaseUrl,
        directDatabaseUrl: config.directDatabaseUrl,
        onRetry: (setting, reason, delayMs) =>
          logger.warn({ setting, reason, delayMs }, 'PostgreSQL not reachable yet; retrying'),
      });
    }
    const { applied } = await prepareDatabase(database, { migrate: config.migrateOnStart }).catch((error: unknown) => {
      throw privilegeProblem(error, config) ?? error;
    });
    logger.info({ database: database.kind, applied, migrated: config.migrateOnStart }, 'database ready');

    const devKey = config.devSigningKey ? await loadOrCreateDevSigningKey(config.dataDir) : undefined;
    const verifier = createTokenVerifier({ ...config.jwt, devKey });

    if (config.seedDemo && (await seedDemoIfEmpty(database))) logger.info('seeded demo tenants acme and globex');
    let graphiqlToken: string | undefined;
    const tokens: string[] = [];
    // Demo tokens are printed (and handed to GraphiQL) in development only: in production the
    // page would give an owner's token to anyone who reaches the port.
    if (devKey && !config.production) {
      for (const login of await demoLogins(database)) {
        const token = await issueDevToken(devKey, { ...config.jwt, userId: login.userId, tenant: login.tenantSlug, ttl: '7d' });
        graphiqlToken ??= token;
        tokens.push(`  ${login.email} (${login.role} of ${login.tenantSlug}):\n    ${token}`);
      }
    }

    const redis = config.redisUrl ? await connectRedisOrExplain(config.redisUrl, logger) : undefined;
    const app = createApp({
      config,
      database,
      logger,
      verifier,
      graphiqlToken,
      eventTarget: redis?.eventTarget,
      persistedDocuments: redis ? createRedisDocumentStore(redis.commands, { logger }) : undefined,
      degradedWithout: redis ? { redis: redis.ready } : undefined,
    });
    if (redis) await applyRegistryChangesFromRedis(redis, app.registry, logger);
    // Every change to the registry's tables is announced (a trigger); hearing them lets the registry
    // trust its answers until one arrives.
    const stopListening = database.listen
      ? await listenInProcess(database.listen, app.registry)
      : await listenForRegistryChanges(config.directDatabaseUrl as string, app.registry, {
          logger,
          announce: (payload) => notifyRegistryPayload(database.sql, payload),
        });
    const { url } = await app.start().catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new StartupError('PORT', `${config.host}:${config.port} is already in use`);
      if (error.code === 'EACCES') throw new StartupError('PORT', `${config.port} needs privileges this process lacks (EACCES)`);
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        throw new StartupError('HOST', `${config.host} is not an address of this machine (${error.code})`);
      }
      throw error;
    });
    // The embedded database serves this process only: `npm run cli` hands its commands to it.
    const stopAdmin = database.dataDir
      ? await serveAdminSocket({
          dataDir: database.dataDir,
          logger,
          run: (argv, out, err) => runCommandLine(argv, { config, database }, out, err),
        })
      : undefined;
    logger.info({ url }, 'tenantgraph is listening');
    listening = true;
    if (tokens.length > 0) {
      process.stdout.write(
        `\ntenantgraph: GraphiQL at ${url} (already holding the first token)\n` +
          `Demo bearer tokens (valid 7 days, development key):\n${tokens.join('\n')}\n` +
          `Try (as the first of them):\n  TOKEN=${graphiqlToken}\n  curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d '{"query":"{ viewer { user { name } tenant { slug } role } }"}'\n\n`,
      );
    }

    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await stopAdmin?.();
      await app.stop();
      await stopListening();
      await redis?.close();
      await database.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

/** Which of the settings that matter to an operator are in force (one log line at start-up). */
function startUpSettings(config: Config) {
  return {
    mode: config.production ? 'production' : 'development',
    database: config.databaseUrl ? describeUrl(config.databaseUrl) : 'embedded',
    // The `iss` each expects, first: a wrong JWT_ISSUER refuses every token, and the URL alone hid it.
    issuers: trustedIssuers(config.jwt).map((trusted) => ({
      iss: trusted.issuer,
      ...(trusted.jwksUrl ? { jwksUrl: trusted.jwksUrl } : { signer: 'development key' }),
      audience: trusted.audience,
    })),
    migrateOnStart: config.migrateOnStart,
    seedDemo: config.seedDemo,
    graphiql: config.graphiql,
    introspection: config.introspection,
    corsOrigins: config.corsOrigins,
  };
}

/**
 * A role without a privilege the start needs: migrating needs the schema's owner; checking needs
 * the grants of the README's least-privilege role.
 */
function privilegeProblem(error: unknown, config: Config): StartupError | undefined {
  if ((error as { code?: unknown })?.code !== '42501') return undefined;
  const hint = config.migrateOnStart
    ? 'migrations need the schema owner: run `npm run migrate` as the owner and start with MIGRATE_ON_START=false'
    : 'grant tenantgraph_server to the role (README: "Production: migrations apart, a role that owns nothing")';
  return new StartupError(
    config.migrateOnStart && config.directDatabaseUrl !== config.databaseUrl ? 'DIRECT_DATABASE_URL' : 'DATABASE_URL',
    `${reasonOf(error)}; ${hint}`,
  );
}

async function connectRedisOrExplain(url: string, logger: Logger) {
  try {
    return await connectRedis(url, { logger });
  } catch (error) {
    throw new StartupError('REDIS_URL', `cannot reach Redis at ${describeUrl(url)}: ${reasonOf(error)}`);
  }
}

/**
 * The last resort: an error event or a rejected promise that nothing owned. Each is a bug (every
 * one has an owner where it arises), so it is logged and counted — the fault tests fail on the
 * log line — but it does not end the process and with it every tenant's requests in flight. After
 * an uncaught exception the process's state is not to be trusted, so /readyz turns 503 and an
 * orchestrator replaces the instance once it has drained.
 */
function handleWhatNothingElseDid(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    increment('unhandled_error');
    logger.error({ err: reason, lastResort: true }, 'unhandled rejection (last resort)');
  });
  process.on('uncaughtException', (error) => {
    increment('unhandled_error');
    increment('uncaught_exception');
    logger.error({ err: error, lastResort: true }, 'uncaught exception (last resort)');
  });
}

// A start-up step that neither finished nor failed — a driver that threw where no promise could
// carry it — left the process with nothing to do, and it ended with code 0 as if all were well.
process.once('beforeExit', () => {
  if (listening || process.exitCode) return;
  process.stderr.write('tenantgraph: start-up stopped before the server was listening (see the log above)\n');
  process.exit(1);
});

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof StartupError ||
    error instanceof DatabaseInUseError ||
    error instanceof MigrationError ||
    error instanceof IsolationCheckError;
  process.stderr.write(`tenantgraph: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}\n`);
  process.exit(1);
});
