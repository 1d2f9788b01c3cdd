// Writes schema/persisted-operations.json (hash → document) from the generated SDK; run by
// `npm run codegen` right after graphql-codegen, so both come from the same run.
import { writeFile } from 'node:fs/promises';
import {
  buildPersistedOperations,
  formatPersistedOperations,
  PERSISTED_OPERATIONS_FILE,
} from '../src/schema/persisted-operations.js';

const operations = await buildPersistedOperations();
await writeFile(PERSISTED_OPERATIONS_FILE, formatPersistedOperations(operations));
process.stdout.write(`wrote ${Object.keys(operations).length} operations to ${PERSISTED_OPERATIONS_FILE}\n`);
