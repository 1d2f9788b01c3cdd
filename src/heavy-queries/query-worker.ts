import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { type DocumentNode, type ExecutionResult, execute, GraphQLError, parse } from 'graphql';
import { LRUCache } from 'lru-cache';
import { createDatabase } from '../db/create-database.js';
import { PREPARED_STATEMENTS_DISABLED } from '../db/prepared-statements.js';
import { createTenantDbs, type TenantDb } from '../db/tenant-db.js';
import { clientError } from '../errors/error-codes.js';
import type { Loaders } from '../loaders/create-loaders.js';
import { createLogger } from '../observability/logger.js';
import { createErrorMask } from '../plugins/mask-error.js';
import type { TenantPubSub } from '../pubsub/tenant-pubsub.js';
import { contextForExecution, refusing } from '../schema/context.js';
import { schema } from '../schema/index.js';
import { clientFacingError } from '../subscriptions/client-facing-errors.js';
import { LeaseTimeoutError } from '../tenancy/leased-clients.js';
import { currentTenant, runInTenant } from '../tenancy/tenant-context.js';
import type { FromWorker, HeavyAnswer, HeavyQuery, HeavyWorkerData, ToWorker } from './heavy-query.js';

// The worker side of the heavy lane (src/heavy-queries/heavy-lane.ts): its own connections, its
// own tenant clients leased per query exactly as the main thread's are, the same schema and the
// same error mask — only the thread differs.

const options = workerData as HeavyWorkerData;
const port = parentPort;
if (!port) throw new Error('query-worker runs as a worker thread');

lowerOwnPriority(options.niceness);
const logger = createLogger(options.logLevel);
const mask = createErrorMask(logger);
const database = await createDatabase({
  databaseUrl: options.databaseUrl,
  poolSize: options.concurrency,
  preparedStatements: options.preparedStatements,
  onConnectionError: (error) => logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
  onPreparedStatementsDisabled: (error) => logger.warn({ err: error }, PREPARED_STATEMENTS_DISABLED),
});
const clients = createTenantDbs(database, { size: options.concurrency, waitMs: options.clientWaitMs });
/** Parsed documents by text: the same few heavy documents tend to come again (bounded by entries; each is under MAX_TOKENS). */
const documents = new LRUCache<string, DocumentNode>({ max: 200 });

port.on('message', ({ id, query }: ToWorker) => {
  answer(query)
    .catch((error: unknown): HeavyAnswer => {
      // answer() masks what the execution throws; this is a bug of the worker itself.
      logger.error({ err: error, requestId: query.tenant.requestId }, 'a heavy query could not be answered');
      return {
        body: JSON.stringify({ errors: [INTERNAL] }),
        errors: [{ ...INTERNAL, extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      };
    })
    .then((answered) => port.postMessage({ id, answer: answered } satisfies FromWorker))
    // Unanswered, the caller gets UNAVAILABLE at the lane's deadline.
    .catch((error: unknown) => logger.error({ err: error }, 'a heavy query answer could not be sent'));
});
const INTERNAL = { message: 'Unexpected error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

async function answer(query: HeavyQuery): Promise<HeavyAnswer> {
  return runInTenant(query.tenant, async () => {
    let result: ExecutionResult;
    try {
      result = await executeLeased(query);
    } catch (error) {
      result = {
        errors: [
          error instanceof LeaseTimeoutError
            ? clientError('UNAVAILABLE', { http: true })
            : new GraphQLError('heavy query failed', { originalError: error as Error }),
        ],
      };
    }
    // Masked here, while the tenant is bound, so that the log lines name the request.
    const errors = result.errors?.map((error) => mask(error) as GraphQLError);
    return serialize(result.data, errors);
  });
}

async function executeLeased(query: HeavyQuery): Promise<ExecutionResult> {
  const lease = await clients.lease(currentTenant('a heavy query'));
  try {
    const resolved = {
      tenant: query.tenant,
      tokenExpiresAt: query.tokenExpiresAt,
      profile: query.profile,
      db: refusing<TenantDb>('db'),
      loaders: refusing<Loaders>('loaders'),
      // Queries publish nothing: a resolver that tried would be a bug, and says so.
      pubsub: refusing<TenantPubSub>('pubsub'),
      maxCost: query.maxCost,
      measuredCost: query.measuredCost,
    };
    const contextValue = contextForExecution(resolved, lease.client);
    return await execute({
      schema,
      document: documentOf(query.document),
      variableValues: query.variables,
      operationName: query.operationName,
      contextValue,
    });
  } finally {
    lease.release();
  }
}

function documentOf(text: string): DocumentNode {
  let document = documents.get(text);
  if (!document) {
    document = parse(text);
    documents.set(text, document);
  }
  return document;
}

/** The body as Yoga would write it — errors first, without their transport extensions — and the errors with them, for the status. */
function serialize(data: unknown, errors: GraphQLError[] | undefined): HeavyAnswer {
  if (!errors || errors.length === 0) return { body: JSON.stringify({ data }) };
  const forClient = errors.map(clientFacingError);
  const body = JSON.stringify(data === undefined ? { errors: forClient } : { errors: forClient, data });
  return { body, errors: errors.map((error) => ({ ...error.toJSON(), extensions: { ...error.extensions } })) };
}

/**
 * Lowers this thread's CPU priority alone (Linux numbers threads like processes): when the main
 * thread and this one both want a core, the main thread's many small requests win it.
 */
function lowerOwnPriority(niceness: number): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId)) setPriority(threadId, Math.min(19, niceness));
  } catch {
    // Not Linux, or not allowed: the lane still keeps heavy work off the event loop.
  }
}
