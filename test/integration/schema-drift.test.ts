import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatamodel } from '../../src/generated/pothos-types.js';
import * as enums from '../../src/generated/prisma/enums.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

// Migrations are hand-written SQL; the Prisma schema is the source of types. This proves they
// describe the same database: tables, columns, types, nullability, keys and enum values.

interface RuntimeModel {
  dbName: string | null;
  fields: { name: string; kind: string; dbName?: string }[];
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.destroy());

const PG_TYPES: Record<string, string[]> = {
  String: ['text', 'uuid'],
  Boolean: ['boolean'],
  DateTime: ['timestamp with time zone'],
  Int: ['integer'],
};

describe('the Prisma schema and the migrated database', () => {
  it('agree on every table and column', async () => {
    const runtime = (database.prisma as unknown as { _runtimeDataModel?: { models: Record<string, RuntimeModel> } })
      ._runtimeDataModel;
    if (!runtime) throw new Error('Prisma no longer exposes its runtime data model; update this test');
    const columns = await database.sql.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
    }>(
      "SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_tenantgraph_migrations'",
    );
    const datamodel = getDatamodel().datamodel.models;
    const expected: string[] = [];
    for (const [modelName, model] of Object.entries(datamodel)) {
      const runtimeModel = runtime.models[modelName];
      const table = runtimeModel?.dbName ?? modelName;
      for (const field of model.fields) {
        if (field.kind === 'object') continue;
        const column = runtimeModel?.fields.find((candidate) => candidate.name === field.name)?.dbName ?? field.name;
        const actual = columns.find((row) => row.table_name === table && row.column_name === column);
        expect(actual, `${modelName}.${field.name} → ${table}.${column}`).toBeDefined();
        if (!actual) continue;
        expected.push(`${table}.${column}`);
        expect(actual.is_nullable === 'YES', `${table}.${column} nullability`).toBe(!field.isRequired);
        if (field.kind === 'enum') expect(actual.udt_name, `${table}.${column} enum`).toBe(field.type);
        else expect(PG_TYPES[field.type], `${table}.${column} type ${actual.data_type}`).toContain(actual.data_type);
      }
    }
    const actualColumns = columns.map((row) => `${row.table_name}.${row.column_name}`).sort();
    expect(actualColumns).toEqual(expected.sort());
  });

  it('agree on primary keys and unique constraints', async () => {
    const indexes = await database.sql.query<{ table_name: string; columns: string[]; is_primary: boolean }>(
      `SELECT t.relname AS table_name, i.indisprimary AS is_primary,
              array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum)) AS columns
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey)
        WHERE n.nspname = 'public' AND i.indisunique AND t.relname <> '_tenantgraph_migrations'
        GROUP BY t.relname, i.indexrelid, i.indisprimary`,
    );
    const runtime = (database.prisma as unknown as { _runtimeDataModel: { models: Record<string, RuntimeModel> } })
      ._runtimeDataModel;
    const expected: string[] = [];
    for (const [modelName, model] of Object.entries(getDatamodel().datamodel.models)) {
      const runtimeModel = runtime.models[modelName];
      const column = (field: string) => runtimeModel?.fields.find((candidate) => candidate.name === field)?.dbName ?? field;
      const table = runtimeModel?.dbName ?? modelName;
      const primary = model.primaryKey?.fields ?? model.fields.filter((field) => field.isId).map((field) => field.name);
      expected.push(`${table} PRIMARY (${primary.map(column).join(', ')})`);
      for (const field of model.fields.filter((candidate) => candidate.isUnique))
        expected.push(`${table} UNIQUE (${column(field.name)})`);
      for (const unique of model.uniqueIndexes) expected.push(`${table} UNIQUE (${unique.fields.map(column).join(', ')})`);
    }
    const actual = indexes.map(
      (index) => `${index.table_name} ${index.is_primary ? 'PRIMARY' : 'UNIQUE'} (${index.columns.join(', ')})`,
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('agree on enum values', async () => {
    const rows = await database.sql.query<{ name: string; values: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const database_enums = Object.fromEntries(rows.map((row) => [row.name, row.values]));
    const prisma_enums = Object.fromEntries(
      Object.entries(enums)
        .filter(([, value]) => typeof value === 'object')
        .map(([name, value]) => [name, Object.values(value as Record<string, string>)]),
    );
    expect(database_enums).toEqual(prisma_enums);
  });
});
