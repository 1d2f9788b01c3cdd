import { resolve } from 'node:path';
import { z } from 'zod';
import { parseClaimPath } from '../auth/claim-path.js';
import { type TrustedIssuer, usesDevSigner } from '../auth/trusted-issuers.js';

/** Every setting the server reads, parsed once at start-up. See the README's configuration table. */
export interface Config {
  /** HTTP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; loopback by default so a dev server is not exposed by accident. */
  host: string;
  /** Folder of the embedded database and the development signing key. */
  dataDir: string;
  /** A PostgreSQL URL; absent means the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  /**
   * The same database without a transaction pooler in between, for what needs a session: LISTEN,
   * migrations and their advisory lock. Defaults to `databaseUrl`.
   */
  directDatabaseUrl: string | undefined;
  /** Connections in the request pool (PostgreSQL). */
  databasePoolSize: number;
  /**
   * Keep tenant statements prepared by name on each connection (src/db/prepared-statements.ts).
   * `auto`: yes unless DIRECT_DATABASE_URL names another address than DATABASE_URL (a pooler).
   */
  databasePreparedStatements: boolean;
  /** Redis, through which several instances share events and registry changes. */
  redisUrl: string | undefined;
  jwt: {
    /** Remote key set; when set, the development key is never used. */
    jwksUrl: string | undefined;
    issuer: string;
    audience: string;
    /** Claim path of the tenant's id or slug (see src/auth/claim-path.ts). */
    tenantClaim: string;
    /** JWT_ISSUERS: several providers at once, each with its own JWKS; replaces `issuer` and `jwksUrl`. */
    issuers: TrustedIssuer[] | undefined;
    /** Clock tolerance for exp/nbf, in seconds. */
    clockToleranceSeconds: number;
    /** Create a user (from the token's email) the first time a valid token names an unknown identity. */
    jitUsers: boolean;
    /** Claim path of that email. */
    jitEmailClaim: string;
    /** Claim (name or JSON Pointer) that must be `true` for a just-in-time user: the provider verified the email. */
    jitEmailVerifiedClaim: string;
  };
  /** How long the tenant registry trusts a cached answer while changes are not known to be pushed, in milliseconds. */
  registryTtlMs: number;
  /** How long it trusts one while they are (LISTEN heard, heartbeats answered). */
  registryPushedTtlMs: number;
  /** Answers kept at most, in each of its two caches. */
  registryMaxEntries: number;
  /** Tenant clients leased to executions: how many may use the database at once, whatever the number of tenants. */
  databaseClients: number;
  /** How long an execution waits for one when all are leased, before it answers UNAVAILABLE. */
  databaseClientWaitMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  nodeEnv: string;
  /** NODE_ENV=production: no development key, no demo data, no GraphiQL or introspection unless asked for. */
  production: boolean;
  /**
   * Trust a signing key kept in `dataDir` when no JWKS is configured. Always in development; in
   * production only when asked for (ALLOW_DEV_SIGNING_KEY), since each replica would make its own.
   * False with a JWKS, and for the admin CLI in production when it was not asked for.
   */
  devSigningKey: boolean;
  /** Seed demo tenants into an empty database (never in production). */
  seedDemo: boolean;
  /** Apply pending migrations at start; otherwise only check, read-only, that none is pending. */
  migrateOnStart: boolean;
  /** How long the first database connection is retried (with backoff) before the server gives up, in ms. */
  databaseStartTimeoutMs: number;
  /** Serve GraphiQL on GET /graphql from a browser. */
  graphiql: boolean;
  /** Answer `__schema` and `__type`; when off they are refused at validation. */
  introspection: boolean;
  /** Browser origins allowed by CORS: `*` for any, or an explicit list (empty: no cross-origin access). */
  corsOrigins: '*' | string[];
  /** Run only the operations of schema/persisted-operations.json, sent by hash. */
  persistedOperationsOnly: boolean;
  /**
   * What one request may cost, checked before any work is spent on it: the body before it is read
   * (and only after the token), the document while it is parsed, the operation before it runs.
   */
  limits: {
    /** Largest request body (HTTP) or websocket message, in bytes. */
    maxBodyBytes: number;
    /** Most lexical tokens one document may have; the parser stops at the first one over. */
    maxTokens: number;
    /** Deepest field nesting (introspection is bounded by the token limit instead). */
    maxDepth: number;
    /** Most aliased fields: aliases multiply work without deepening a query. */
    maxAliases: number;
    /** Most cost an operation may have: fields weighted by the page sizes they ask for. */
    maxCost: number;
  };
  /**
   * Reads that may cost this much run on a worker thread of their own at a lower CPU priority, so
   * one tenant's large read does not hold the event loop every other tenant's request waits on
   * (PostgreSQL only: the embedded database lives in the main thread).
   */
  heavyQueries: {
    /** The cost (src/schema/shared/operation-cost.ts) from which a query is heavy; 0 turns the lane off. */
    cost: number;
    /** Heavy queries one tenant may have running at once; more wait their turn. */
    perTenant: number;
    /** Heavy queries running at once on the worker, all tenants together. */
    concurrency: number;
    /**
     * The share of one worker slot's time a tenant may use on average (0 < share ≤ 1; 1: no budget):
     * past its burst, a tenant's heavy queries wait until it is back within its share.
     */
    share: number;
    /** Heavy-query time a tenant may use back to back before its share applies (ms). */
    burstMs: number;
  };
  /** Whether "Did you mean …" hints, which reveal the schema, are left out of validation errors. */
  hideSchemaHints: boolean;
  subscriptions: {
    /** How often idle subscriptions re-check token expiry, tenant status and membership (ms). */
    recheckMs: number;
    /** How long a websocket client may take to send connection_init (ms). */
    initTimeoutMs: number;
    perConnection: number;
    /** Active subscriptions of one tenant on this instance. */
    perTenant: number;
    /** Undelivered events one subscription may hold before it is ended as too slow. */
    bufferLimit: number;
  };
}

const port = z.coerce.number().int().min(0).max(65535);
// A URL the driver cannot parse got past a scheme check and failed inside it, unowned, at start-up.
const parsable = (url: string) => URL.canParse(url);
const UNPARSABLE =
  'is not a URL that parses (a port that is not a number? a character in the password to %-encode, such as @ / # ?)';
const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
  .refine(parsable, UNPARSABLE);
const claimPath = z.string().superRefine((value, context) => {
  try {
    parseClaimPath(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: `must be a claim name or a JSON Pointer: ${(error as Error).message}` });
  }
});
const jwksUrl = z.url({ protocol: /^https?$/ });
const trustedIssuer = z.strictObject({
  issuer: z.string().min(1).max(512),
  jwksUrl,
  audience: z.string().min(1).optional(),
  tenantClaim: claimPath.optional(),
});
const trustedIssuers = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON: [{ "issuer": …, "jwksUrl": … }, …]' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(trustedIssuer)
      .min(1)
      .max(20)
      .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'each issuer at most once'),
  );
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const environment = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: postgresUrl.optional(),
  DIRECT_DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1_000).default(10),
  DATABASE_PREPARED_STATEMENTS: z.enum(['auto', 'on', 'off']).default('auto'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .refine(parsable, UNPARSABLE)
    .optional(),
  JWT_JWKS_URL: jwksUrl.optional(),
  JWT_ISSUER: z.string().min(1).max(512).default('tenantgraph-dev'),
  JWT_ISSUERS: trustedIssuers.optional(),
  JWT_AUDIENCE: z.string().min(1).default('tenantgraph'),
  JWT_TENANT_CLAIM: claimPath.default('tid'),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  JIT_USERS: bool.default(false),
  JIT_EMAIL_CLAIM: claimPath.default('email'),
  JIT_EMAIL_VERIFIED_CLAIM: claimPath.default('email_verified'),
  REGISTRY_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  REGISTRY_PUSHED_TTL_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  REGISTRY_MAX_ENTRIES: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  DATABASE_CLIENTS: z.coerce.number().int().min(1).max(1_000).default(16),
  DATABASE_CLIENT_WAIT_MS: z.coerce.number().int().min(10).max(60_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
  SEED_DEMO: bool.optional(),
  ALLOW_DEV_SIGNING_KEY: bool.default(false),
  MIGRATE_ON_START: bool.optional(),
  DATABASE_START_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  GRAPHIQL: bool.optional(),
  INTROSPECTION: bool.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ }).transform((url) => new URL(url).origin)])))
    .optional(),
  PERSISTED_OPERATIONS_ONLY: bool.default(false),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(64 * 1024 * 1024)
    .default(102_400),
  MAX_TOKENS: z.coerce.number().int().min(100).max(100_000).default(2_000),
  MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  MAX_ALIASES: z.coerce.number().int().min(0).max(1_000).default(30),
  MAX_COST: z.coerce.number().int().min(100).max(100_000_000).default(50_000),
  HEAVY_QUERY_COST: z.coerce.number().int().min(0).max(100_000_000).default(15_000),
  HEAVY_QUERIES_PER_TENANT: z.coerce.number().int().min(1).max(1_000).default(2),
  HEAVY_QUERY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  HEAVY_QUERY_SHARE: z.coerce.number().gt(0).max(1).default(0.25),
  HEAVY_QUERY_BURST_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
  HIDE_SCHEMA_HINTS: bool.optional(),
  SUBSCRIPTION_RECHECK_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  SUBSCRIPTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(1_000).default(20),
  SUBSCRIPTIONS_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  SUBSCRIPTION_BUFFER: z.coerce.number().int().min(1).max(1_024).default(100),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Says what a setting must be in an operator's words ("PORT: must be a number, not "http"")
 * rather than the schema library's ("Invalid input: expected number, received NaN"). The value is
 * quoted back only for numbers and choices: a malformed URL may hold a password.
 */
function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const given = env[String(issue.path[0])];
  const not = given === undefined ? '' : `, not ${JSON.stringify(given.length > 40 ? `${given.slice(0, 40)}…` : given)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return `must be a whole number${not}`;
      if (issue.expected === 'number') return `must be a number${not}`;
      return issue.message;
    case 'too_small':
      if (issue.origin !== 'number') return issue.message;
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}${not}`;
    case 'too_big':
      if (issue.origin !== 'number') return issue.message;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${not}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => String(value)).join(', ')}${not}`;
    default:
      return issue.message;
  }
}

/**
 * Parses the environment; throws a ConfigError naming every bad variable. `admin`: for the CLI, which
 * verifies no token — in production it runs without an issuer, and refuses only the commands that
 * need one (src/cli/commands.ts), where a server would not start.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, purpose: 'server' | 'admin' = 'server'): Config {
  const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environment.safeParse(blankAsUnset);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${describeIssue(issue, blankAsUnset)}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  // One form or the other: a JWKS or issuer given beside the list would be silently ignored.
  const alongside = ['JWT_ISSUER', 'JWT_JWKS_URL'].filter((name) => blankAsUnset[name] !== undefined);
  if (parsed.data.JWT_ISSUERS && alongside.length > 0) {
    throw new ConfigError(
      `invalid configuration:\n${alongside.map((name) => `  ${name}: not with JWT_ISSUERS (list that issuer there)`).join('\n')}`,
    );
  }
  // A provider's key set with the default issuer (this server's development signer): every token of
  // the provider would be refused, and `user add --subject` would file identities under the wrong issuer.
  if (blankAsUnset.JWT_JWKS_URL !== undefined && blankAsUnset.JWT_ISSUER === undefined) {
    throw new ConfigError(
      "invalid configuration:\n  JWT_ISSUER: required with JWT_JWKS_URL (the iss of that provider's tokens, e.g. https://YOUR_TENANT.eu.auth0.com/)",
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const refusals = productionRefusals(e, production, purpose);
  if (refusals.length > 0) throw new ConfigError(`invalid configuration:\n${refusals.map((line) => `  ${line}`).join('\n')}`);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    directDatabaseUrl: e.DIRECT_DATABASE_URL ?? e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements:
      e.DATABASE_PREPARED_STATEMENTS === 'auto'
        ? e.DIRECT_DATABASE_URL === undefined || e.DIRECT_DATABASE_URL === e.DATABASE_URL
        : e.DATABASE_PREPARED_STATEMENTS === 'on',
    redisUrl: e.REDIS_URL,
    jwt: {
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      tenantClaim: e.JWT_TENANT_CLAIM,
      issuers: e.JWT_ISSUERS,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_SECONDS,
      jitUsers: e.JIT_USERS,
      jitEmailClaim: e.JIT_EMAIL_CLAIM,
      jitEmailVerifiedClaim: e.JIT_EMAIL_VERIFIED_CLAIM,
    },
    registryTtlMs: e.REGISTRY_TTL_MS,
    registryPushedTtlMs: e.REGISTRY_PUSHED_TTL_MS,
    registryMaxEntries: e.REGISTRY_MAX_ENTRIES,
    databaseClients: e.DATABASE_CLIENTS,
    databaseClientWaitMs: e.DATABASE_CLIENT_WAIT_MS,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    production,
    // Production refused it above unless ALLOW_DEV_SIGNING_KEY said otherwise.
    devSigningKey: signsOwnTokens(e) && (!production || e.ALLOW_DEV_SIGNING_KEY),
    // Demo data only ever goes into the embedded database unless asked for explicitly, and never in production.
    seedDemo: !production && (e.SEED_DEMO ?? e.DATABASE_URL === undefined),
    // In production a PostgreSQL database is migrated by its owner (npm run migrate), not by the
    // server's least-privilege role; the embedded database has no one else to do it.
    migrateOnStart: e.MIGRATE_ON_START ?? (e.DATABASE_URL === undefined || !production),
    databaseStartTimeoutMs: e.DATABASE_START_TIMEOUT_MS,
    graphiql: e.GRAPHIQL ?? !production,
    introspection: e.INTROSPECTION ?? !production,
    corsOrigins: corsOrigins(e.CORS_ORIGINS, production),
    persistedOperationsOnly: e.PERSISTED_OPERATIONS_ONLY,
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxTokens: e.MAX_TOKENS,
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxCost: e.MAX_COST,
    },
    heavyQueries: {
      cost: e.HEAVY_QUERY_COST,
      perTenant: e.HEAVY_QUERIES_PER_TENANT,
      concurrency: e.HEAVY_QUERY_CONCURRENCY,
      share: e.HEAVY_QUERY_SHARE,
      burstMs: e.HEAVY_QUERY_BURST_MS,
    },
    hideSchemaHints: e.HIDE_SCHEMA_HINTS ?? e.NODE_ENV === 'production',
    subscriptions: {
      recheckMs: e.SUBSCRIPTION_RECHECK_MS,
      initTimeoutMs: e.SUBSCRIPTION_INIT_TIMEOUT_MS,
      perConnection: e.SUBSCRIPTIONS_PER_CONNECTION,
      perTenant: e.SUBSCRIPTIONS_PER_TENANT,
      bufferLimit: e.SUBSCRIPTION_BUFFER,
    },
  };
}

/**
 * What production refuses rather than quietly defaulting to: trusting a key it made itself (a
 * different one per replica, which anyone with the data folder can sign with), and demo data.
 */
function productionRefusals(e: z.infer<typeof environment>, production: boolean, purpose: 'server' | 'admin'): string[] {
  if (!production) return [];
  const refusals: string[] = [];
  if (purpose === 'server' && signsOwnTokens(e) && !e.ALLOW_DEV_SIGNING_KEY) {
    refusals.push(
      'JWT_JWKS_URL: required when NODE_ENV=production (your identity provider; or JWT_ISSUERS, each with its jwksUrl); ALLOW_DEV_SIGNING_KEY=true trusts a local key instead',
    );
  }
  if (e.SEED_DEMO === true) refusals.push('SEED_DEMO: demo data is never seeded when NODE_ENV=production');
  return refusals;
}

/** Whether an issuer without a key set is trusted: tokens signed by this server's own development key. */
function signsOwnTokens(e: z.infer<typeof environment>): boolean {
  return usesDevSigner({ issuer: e.JWT_ISSUER, jwksUrl: e.JWT_JWKS_URL, audience: e.JWT_AUDIENCE, issuers: e.JWT_ISSUERS });
}

/** `*` alone means any origin; development allows any by default, production none unless listed. */
function corsOrigins(listed: ('*' | string)[] | undefined, production: boolean): '*' | string[] {
  if (listed === undefined) return production ? [] : '*';
  return listed.includes('*') ? '*' : listed;
}
