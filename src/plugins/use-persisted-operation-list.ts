import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PERSISTED_OPERATIONS_FILE } from '../schema/persisted-operations.js';
import { operationHash } from '../sdk/operation-hash.js';
import { scopedKey } from '../tenancy/scoped-key.js';
import { createMemoryDocumentStore, type PersistedDocumentStore } from './persisted-document-store.js';

/** The reviewed operations by hash, and whether they are the only ones the server runs. */
export interface PersistedOperationList {
  only: boolean;
  operations: Readonly<Record<string, string>>;
}

export function loadPersistedOperationList(options: { only: boolean; file?: string }): PersistedOperationList {
  const operations = JSON.parse(readFileSync(options.file ?? PERSISTED_OPERATIONS_FILE, 'utf8')) as Record<string, string>;
  return { only: options.only, operations };
}

/** The reviewed list, and where documents registered by clients (APQ) are kept in the open mode. */
export interface PersistedOperations {
  list: PersistedOperationList;
  registered: PersistedDocumentStore;
}

// `PersistedQueryNotFound` / PERSISTED_QUERY_NOT_FOUND is the automatic persisted queries protocol's
// answer to an unknown hash: Apollo's PersistedQueryLink (by message or code) and urql's persisted
// exchange (by message) then send the operation again with its text.
const ERRORS = {
  required: { message: 'This server only runs persisted operations', code: 'PERSISTED_OPERATION_REQUIRED' },
  notFound: { message: 'PersistedQueryNotFound', code: 'PERSISTED_QUERY_NOT_FOUND' },
  mismatch: { message: 'The persisted query hash is not the SHA-256 of the query', code: 'BAD_USER_INPUT' },
  // The protocol has only version 1; Apollo Server answers any other with this message and a 400.
  // Apollo Client's PersistedQueryLink sends the text again only on PersistedQueryNotFound or
  // PersistedQueryNotSupported: this error ends the request (no retry loop).
  version: { message: 'Unsupported persisted query version', code: 'BAD_USER_INPUT' },
} as const;

const persistedError = (kind: keyof typeof ERRORS, http = false) =>
  new GraphQLError(ERRORS[kind].message, {
    extensions: { code: ERRORS[kind].code, ...(http ? { http: { status: 400 } } : {}) },
  });

/** What to run, and the document to register once it has validated; or the error to answer with. */
export type OperationResolution =
  | { query: string | undefined; register?: { key: string; document: string } }
  | { error: GraphQLError };

const HASH = /^[0-9a-f]{64}$/;

// Own entries only: a "hash" such as `__proto__` or `constructor` names nothing.
const listedAs = (list: PersistedOperationList, hash: string) =>
  Object.hasOwn(list.operations, hash) ? list.operations[hash] : undefined;

/**
 * The one rule for HTTP and websockets. A hash (`extensions.persistedQuery.sha256Hash`) names an
 * operation of the reviewed list, or — in the open mode — a document this tenant registered
 * earlier by sending it with its hash (APQ). Registration happens only for a caller whose token was
 * verified (`tenantId`), only once the hash is checked against the text, and only once the
 * document has validated; nothing is registered when only persisted operations run.
 */
export async function resolvePersistedOperation(
  operations: PersistedOperations,
  tenantId: string | undefined,
  params: { query?: unknown; extensions?: Record<string, unknown> | null },
  http = false,
): Promise<OperationResolution> {
  const { list } = operations;
  const persisted = params.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | null | undefined;
  // Refused, not ignored: a version this server does not know may mean something else by its hash,
  // and running the text anyway (or nothing, without it) would hide that from the client.
  if (persisted != null && persisted.version !== 1) return { error: persistedError('version', http) };
  const hash = persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
  const query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;
  if (list.only) {
    if (query !== undefined || hash === undefined) return { error: persistedError('required', http) };
    const listed = listedAs(list, hash);
    return listed === undefined ? { error: persistedError('notFound', http) } : { query: listed };
  }
  if (hash === undefined) return { query };
  const listed = listedAs(list, hash);
  const key = tenantId && HASH.test(hash) ? scopedKey(['apq', hash], tenantId) : undefined;
  if (query === undefined) {
    const found = listed ?? (key ? await operations.registered.get(key) : undefined);
    return found === undefined ? { error: persistedError('notFound', http) } : { query: found };
  }
  if ((await operationHash(query)) !== hash) return { error: persistedError('mismatch', http) };
  return listed !== undefined || !key ? { query } : { query, register: { key, document: query } };
}

/**
 * Operations known by hash, for HTTP and server-sent events. With `list.only`, anything else is
 * refused before parsing: the API then runs exactly the reviewed operations in schema/operations.
 * Runs after useAuthenticateFirst: `tenantOf` names the caller it verified (without it, nothing is
 * registered or looked up but the list).
 */
export function usePersistedOperationList(
  list: PersistedOperationList,
  options: { registered?: PersistedDocumentStore; tenantOf?: (request: Request) => string | undefined } = {},
): Plugin {
  const operations: PersistedOperations = { list, registered: options.registered ?? createMemoryDocumentStore() };
  const pending = new WeakMap<object, { key: string; document: string }>();
  return {
    async onParams({ params, request, setParams, context }) {
      const resolution = await resolvePersistedOperation(operations, options.tenantOf?.(request), params, true);
      if ('error' in resolution) throw resolution.error;
      if (resolution.query !== params.query) setParams({ ...params, query: resolution.query });
      if (resolution.register) pending.set(context, resolution.register);
    },
    onValidate({ context }) {
      const registration = pending.get(context);
      if (!registration) return;
      return ({ valid }) => {
        if (valid) void operations.registered.set(registration.key, registration.document);
      };
    },
  };
}
