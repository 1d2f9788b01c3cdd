import { encodeGlobalID } from '@pothos/plugin-relay';
import { type App, createApp } from '../../src/app.js';
import { createDevSigningKey, type DevSigningKey } from '../../src/auth/dev-signing-key.js';
import { issueDevToken } from '../../src/auth/issue-token.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { PersistedDocumentStore } from '../../src/plugins/persisted-document-store.js';
import type { PubSubEventTarget } from '../../src/pubsub/tenant-pubsub.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: Data | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: { code?: string; fields?: { field: string; message: string }[] };
    }[];
  };
}

export interface TestServer {
  url: string;
  app: App;
  database: TestDatabase;
  config: Config;
  devKey: DevSigningKey;
  /** A development token for `userId` in `tenant` (slug or id). */
  token(userId: string, tenant: string, ttl?: string | number): Promise<string>;
  /** POSTs one operation over real HTTP. */
  request<Data = Record<string, unknown>>(
    query: string,
    options?: { token?: string; variables?: Record<string, unknown>; operationName?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<Data>>;
  close(): Promise<void>;
}

/** A real server on a loopback port, over a fresh database (PGlite, or PostgreSQL when configured). */
export async function startTestServer(
  options: {
    database?: TestDatabase;
    registryTtlMs?: number;
    logger?: Logger;
    persistedOperationsOnly?: boolean;
    /** More environment settings (SUBSCRIPTION_RECHECK_MS, …). */
    environment?: Record<string, string>;
    /** A shared event bus (Redis) instead of the in-process one. */
    eventTarget?: PubSubEventTarget;
    /** Whose token GraphiQL's page starts with, as `npm start` does with the first demo login. */
    graphiqlLogin?: { userId: string; tenant: string };
    /** A shared store of registered documents (Redis) instead of the in-process one. */
    persistedDocuments?: PersistedDocumentStore;
    /** Dependencies /readyz reports as degraded when away (Redis). */
    degradedWithout?: Record<string, () => boolean>;
    /** How long an unknown `kid` waits before a JWKS is fetched again (0: at once, to test rotation). */
    jwksCooldownMs?: number;
  } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REGISTRY_TTL_MS: String(options.registryTtlMs ?? 5000),
    PERSISTED_OPERATIONS_ONLY: String(options.persistedOperationsOnly ?? false),
    ...options.environment,
  });
  const devKey = await createDevSigningKey();
  const app = createApp({
    config,
    database,
    logger: options.logger ?? createLogger(config.logLevel),
    eventTarget: options.eventTarget,
    persistedDocuments: options.persistedDocuments,
    graphiqlToken: options.graphiqlLogin
      ? await issueDevToken(devKey, { ...config.jwt, ...options.graphiqlLogin, ttl: '1h' })
      : undefined,
    degradedWithout: options.degradedWithout,
    verifier: createTokenVerifier({ ...config.jwt, devKey, jwksCooldownMs: options.jwksCooldownMs }),
  });
  const { url } = await app.start(0, '127.0.0.1');
  return {
    url,
    app,
    database,
    config,
    devKey,
    token: (userId, tenant, ttl = '1h') => issueDevToken(devKey, { ...config.jwt, userId, tenant, ttl }),
    async request(query, requestOptions = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
          ...requestOptions.headers,
        },
        body: JSON.stringify({ query, variables: requestOptions.variables, operationName: requestOptions.operationName }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async close() {
      await app.stop(1000);
      if (!options.database) await database.destroy();
    },
  };
}

export const globalId = (typename: string, id: string) => encodeGlobalID(typename, id);
