// Prints the GraphQL schema, sorted, to schema/schema.graphql: the reviewed API contract.
//   npm run schema:print            write it
//   npm run schema:print -- --check exit 1 when the checked-in file is stale
import { readFile, writeFile } from 'node:fs/promises';
import { printedSchema, SCHEMA_FILE } from '../src/schema/printed-schema.js';

const printed = printedSchema();
if (process.argv.includes('--check')) {
  const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
  if (current !== printed) {
    process.stderr.write('schema/schema.graphql is stale: run npm run schema:print\n');
    process.exit(1);
  }
} else {
  await writeFile(SCHEMA_FILE, printed);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
