import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import * as generated from '../sdk/generated.js';
import { operationHash } from '../sdk/operation-hash.js';

export const PERSISTED_OPERATIONS_FILE = fileURLToPath(new URL('../../schema/persisted-operations.json', import.meta.url));

/**
 * hash → document for every operation of the generated SDK, printed exactly as graphql-request
 * prints it on the wire, so a client's hash of what it would send finds it here.
 */
export async function buildPersistedOperations(): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(generated)
      .filter(([name, value]) => name.endsWith('Document') && typeof value === 'object' && value !== null && 'kind' in value)
      .sort(([left], [right]) => left.localeCompare(right))
      .map(async ([, document]) => {
        const text = print(document as Parameters<typeof print>[0]);
        return [await operationHash(text), text] as const;
      }),
  );
  return Object.fromEntries(entries);
}

export const formatPersistedOperations = (operations: Record<string, string>) => `${JSON.stringify(operations, null, 2)}\n`;
