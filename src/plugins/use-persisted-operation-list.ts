import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import { PERSISTED_OPERATIONS_FILE } from '../schema/persisted-operations.js';

/**
 * Operations known by hash (`extensions.persistedQuery.sha256Hash`), from the manifest codegen
 * writes. With `only`, anything else is refused before parsing: the API then runs exactly the
 * reviewed operations in schema/operations and nothing a client made up.
 */
export function usePersistedOperationList(options: { only: boolean; file?: string }): Plugin {
  const operations = JSON.parse(readFileSync(options.file ?? PERSISTED_OPERATIONS_FILE, 'utf8')) as Record<string, string>;
  return usePersistedOperations({
    allowArbitraryOperations: !options.only,
    getPersistedOperation: (hash) => operations[hash] ?? null,
    customErrors: {
      persistedQueryOnly: {
        message: 'This server only runs persisted operations',
        extensions: { code: 'PERSISTED_OPERATION_REQUIRED', http: { status: 400 } },
      },
      notFound: {
        message: 'Unknown persisted operation',
        extensions: { code: 'PERSISTED_OPERATION_NOT_FOUND', http: { status: 400 } },
      },
      keyNotFound: {
        message: 'A persisted operation hash is required',
        extensions: { code: 'PERSISTED_OPERATION_REQUIRED', http: { status: 400 } },
      },
    },
  });
}
