import type { GraphQLContext } from '../schema/context.js';
import type { TenantContext } from '../tenancy/tenant-context.js';

/** A query sent to the worker: what the main thread resolved and checked, and the document's text. */
export interface HeavyQuery {
  tenant: TenantContext;
  profile: GraphQLContext['profile'];
  tokenExpiresAt: number | undefined;
  /** Validated on the main thread; the worker only parses and executes it. */
  document: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
  maxCost: number;
  /** Its cost as the main thread measured it (within maxCost): the worker does not walk it again. */
  measuredCost: number;
}

/** A serialized GraphQL error, masked by the worker exactly as the main thread masks its own. */
export interface HeavyError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * The worker's answer: the response body serialized there — over HTTP the main thread sends it on
 * without reading it, which is the point — and its errors (with their internal `http` extension,
 * from which the status is decided).
 */
export interface HeavyAnswer {
  body: string;
  errors?: HeavyError[];
}

export type ToWorker = { id: number; query: HeavyQuery };
export type FromWorker = { id: number; answer: HeavyAnswer };

/** What the worker needs to reach the database on its own. */
export interface HeavyWorkerData {
  databaseUrl: string;
  /** Keep tenant statements prepared by name (Config.databasePreparedStatements). */
  preparedStatements: boolean;
  /** Queries the worker runs at once: also its clients and connections. */
  concurrency: number;
  clientWaitMs: number;
  logLevel: string;
  /** Added to the worker thread's niceness: the main thread wins the CPU when both want it. */
  niceness: number;
}
