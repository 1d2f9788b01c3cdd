import { readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../../codegen.js';
import { printedSchema, SCHEMA_FILE } from '../../../src/schema/printed-schema.js';

// The schema is a reviewed contract: every API change must show up as a diff of checked-in files.

describe('the API contract', () => {
  it('schema/schema.graphql is the printed schema (run npm run schema:print)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  it('src/sdk/generated.ts is what codegen makes of it (run npm run codegen)', async () => {
    const outputs = (await generate({ ...config, silent: true }, false)) as { filename: string; content: string }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(await readFile(output.filename, 'utf8'), output.filename).toBe(output.content);
    }
  });
});

describe('the persisted operations manifest', () => {
  it('schema/persisted-operations.json holds every SDK operation by hash (run npm run codegen)', async () => {
    const { buildPersistedOperations, formatPersistedOperations, PERSISTED_OPERATIONS_FILE } = await import(
      '../../../src/schema/persisted-operations.js'
    );
    const operations = await buildPersistedOperations();
    expect(Object.keys(operations)).toHaveLength(14);
    expect(await readFile(PERSISTED_OPERATIONS_FILE, 'utf8')).toBe(formatPersistedOperations(operations));
  });
});
