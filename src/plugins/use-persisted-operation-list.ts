import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PERSISTED_OPERATIONS_FILE } from '../schema/persisted-operations.js';

/** The reviewed operations by hash, and whether they are the only ones the server runs. */
export interface PersistedOperationList {
  only: boolean;
  operations: Readonly<Record<string, string>>;
}

export function loadPersistedOperationList(options: { only: boolean; file?: string }): PersistedOperationList {
  const operations = JSON.parse(readFileSync(options.file ?? PERSISTED_OPERATIONS_FILE, 'utf8')) as Record<string, string>;
  return { only: options.only, operations };
}

const ERRORS = {
  required: { message: 'This server only runs persisted operations', code: 'PERSISTED_OPERATION_REQUIRED' },
  notFound: { message: 'Unknown persisted operation', code: 'PERSISTED_OPERATION_NOT_FOUND' },
} as const;

const persistedError = (kind: keyof typeof ERRORS, http = false) =>
  new GraphQLError(ERRORS[kind].message, {
    extensions: { code: ERRORS[kind].code, ...(http ? { http: { status: 400 } } : {}) },
  });

/**
 * Operations known by hash (`extensions.persistedQuery.sha256Hash`), from the manifest codegen
 * writes. With `only`, anything else is refused before parsing: the API then runs exactly the
 * reviewed operations in schema/operations and nothing a client made up.
 */
export function usePersistedOperationList(list: PersistedOperationList): Plugin {
  const http = (kind: keyof typeof ERRORS) => {
    const error = persistedError(kind, true);
    return { message: error.message, extensions: error.extensions };
  };
  return usePersistedOperations({
    allowArbitraryOperations: !list.only,
    getPersistedOperation: (hash) => list.operations[hash] ?? null,
    customErrors: { persistedQueryOnly: http('required'), notFound: http('notFound'), keyNotFound: http('required') },
  });
}

/**
 * The same rule for a websocket `subscribe` message, which does not pass through Yoga's request
 * parsing: the text to run, or the error to answer with.
 */
export function resolveWebSocketOperation(
  list: PersistedOperationList,
  payload: { query: string; extensions?: Record<string, unknown> | null },
): { query: string } | { error: GraphQLError } {
  const persisted = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
  if (hash !== undefined) {
    const query = list.operations[hash];
    return query === undefined ? { error: persistedError('notFound') } : { query };
  }
  return list.only ? { error: persistedError('required') } : { query: payload.query };
}
