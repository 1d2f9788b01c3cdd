import { readdir, readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import { buildSchema, Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import config from '../../../codegen.js';
import { ErrorCode } from '../../../src/errors/error-codes.js';
import { printedSchema, SCHEMA_FILE } from '../../../src/schema/printed-schema.js';
import { errorFromGraphQL } from '../../../src/sdk/api-error.js';

// The schema is a reviewed contract: every API change must show up as a diff of checked-in files.

describe('the API contract', () => {
  it('schema/schema.graphql is the printed schema (run npm run schema:print)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  it('the SDK knows every code the server may answer with (none arrives as UNKNOWN)', () => {
    for (const code of Object.keys(ErrorCode)) {
      expect(errorFromGraphQL([{ message: 'm', extensions: { code } }], ErrorCode[code as ErrorCode]).code, code).toBe(code);
    }
  });

  it('src/sdk/generated.ts is what codegen makes of it (run npm run codegen)', async () => {
    const outputs = (await generate({ ...config, silent: true }, false)) as { filename: string; content: string }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(await readFile(output.filename, 'utf8'), output.filename).toBe(output.content);
    }
  });
});

const OPERATIONS_DIR = new URL('../../../schema/operations/', import.meta.url);

async function operationDefinitions() {
  const files = (await readdir(OPERATIONS_DIR)).filter((file) => file.endsWith('.graphql'));
  const texts = await Promise.all(files.map((file) => readFile(new URL(file, OPERATIONS_DIR), 'utf8')));
  return texts.flatMap((text) => parse(text).definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION));
}

describe('schema/operations', () => {
  it('use every query, mutation and subscription field at least once', async () => {
    const schema = buildSchema(await readFile(SCHEMA_FILE, 'utf8'));
    const roots = {
      query: schema.getQueryType(),
      mutation: schema.getMutationType(),
      subscription: schema.getSubscriptionType(),
    };
    const used = new Set(
      (await operationDefinitions()).flatMap((definition) =>
        definition.selectionSet.selections.flatMap((selection) =>
          selection.kind === Kind.FIELD ? [`${definition.operation}.${selection.name.value}`] : [],
        ),
      ),
    );
    const declared = Object.entries(roots).flatMap(([operation, type]) =>
      Object.keys(type?.getFields() ?? {}).map((field) => `${operation}.${field}`),
    );
    expect(declared.length).toBeGreaterThan(15);
    expect(declared.filter((field) => !used.has(field))).toEqual([]);
  });
});

describe('the persisted operations manifest', () => {
  it('schema/persisted-operations.json holds every SDK operation by hash (run npm run codegen)', async () => {
    const { buildPersistedOperations, formatPersistedOperations, PERSISTED_OPERATIONS_FILE } = await import(
      '../../../src/schema/persisted-operations.js'
    );
    const operations = await buildPersistedOperations();
    const named = (await operationDefinitions()).map((definition) => definition.name?.value);
    expect(
      Object.values(operations)
        .map((text) => /^(?:query|mutation|subscription) (\w+)/.exec(text)?.[1])
        .sort(),
    ).toEqual(named.sort());
    expect(await readFile(PERSISTED_OPERATIONS_FILE, 'utf8')).toBe(formatPersistedOperations(operations));
  });
});
