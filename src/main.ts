import { serveAdminSocket } from './admin/admin-socket-server.js';
import { createApp } from './app.js';
import { loadOrCreateDevSigningKey } from './auth/dev-signing-key.js';
import { issueDevToken } from './auth/issue-token.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import { runCommandLine } from './cli/run-cli.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createDatabase } from './db/create-database.js';
import { DatabaseInUseError } from './db/data-dir-lock.js';
import { MigrationError } from './db/migrator.js';
import { prepareDatabase } from './db/prepare-database.js';
import { listenForRegistryChanges, listenInProcess, notifyRegistryPayload } from './db/registry-notifications.js';
import { createLogger, type Logger } from './observability/logger.js';
import { increment } from './observability/metrics.js';
import { connectRedis } from './pubsub/redis.js';
import { applyRegistryChangesFromRedis } from './pubsub/redis-registry-changes.js';
import { demoLogins, seedDemoIfEmpty } from './seed/demo-data.js';
import { IsolationCheckError } from './tenancy/isolation-check.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  handleWhatNothingElseDid(logger);
  const database = await createDatabase(
    config.databaseUrl
      ? {
          databaseUrl: config.databaseUrl,
          directDatabaseUrl: config.directDatabaseUrl,
          poolSize: config.databasePoolSize,
          onConnectionError: (error) => logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
        }
      : { dataDir: config.dataDir },
  );
  try {
    const { applied } = await prepareDatabase(database);
    logger.info({ database: database.kind, applied }, 'database ready');

    const devKey = config.jwt.jwksUrl ? undefined : await loadOrCreateDevSigningKey(config.dataDir);
    const verifier = createTokenVerifier({ ...config.jwt, devKey });

    let graphiqlToken: string | undefined;
    const tokens: string[] = [];
    if (devKey && database.kind === 'pglite') {
      if (config.seedDemo && (await seedDemoIfEmpty(database))) logger.info('seeded demo tenants acme and globex');
      for (const login of await demoLogins(database)) {
        const token = await issueDevToken(devKey, { ...config.jwt, userId: login.userId, tenant: login.tenantSlug, ttl: '7d' });
        graphiqlToken ??= token;
        tokens.push(`  ${login.email} (${login.role} of ${login.tenantSlug}):\n    ${token}`);
      }
    }

    const redis = config.redisUrl ? await connectRedis(config.redisUrl, { logger }) : undefined;
    const app = createApp({
      config,
      database,
      logger,
      verifier,
      graphiqlToken,
      eventTarget: redis?.eventTarget,
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
    const { url } = await app.start();
    // The embedded database serves this process only: `npm run cli` hands its commands to it.
    const stopAdmin = database.dataDir
      ? await serveAdminSocket({
          dataDir: database.dataDir,
          logger,
          run: (argv, out, err) => runCommandLine(argv, { config, database }, out, err),
        })
      : undefined;
    logger.info({ url }, 'tenantgraph is listening');
    if (tokens.length > 0) {
      process.stdout.write(
        `\ntenantgraph: GraphiQL at ${url} (already holding the first token)\n` +
          `Demo bearer tokens (valid 7 days, development key):\n${tokens.join('\n')}\n` +
          `Try:\n  curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d '{"query":"{ viewer { user { name } tenant { slug } role } }"}'\n\n`,
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

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof DatabaseInUseError ||
    error instanceof MigrationError ||
    error instanceof IsolationCheckError;
  process.stderr.write(`tenantgraph: ${known ? (error as Error).message : ((error as Error)?.stack ?? String(error))}\n`);
  process.exit(1);
});
