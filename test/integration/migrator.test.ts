import { afterEach, describe, expect, it } from 'vitest';
import { type Migration, MigrationError, migrate, readMigrations } from '../../src/db/migrator.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.destroy();
  database = undefined;
});

const applied = (db: TestDatabase) =>
  db.sql
    .query<{ name: string }>('SELECT name FROM _tenantgraph_migrations ORDER BY name')
    .then((rows) => rows.map((row) => row.name));

describe('the migrator', () => {
  it('applies every migration once, and a second run applies nothing', async () => {
    database = await createTestDatabase({ prepare: false });
    const all = await readMigrations();
    expect(all.length).toBeGreaterThan(0);
    expect((await migrate(database.sql)).applied).toEqual(all.map((migration) => migration.name));
    expect((await migrate(database.sql)).applied).toEqual([]);
    expect(await applied(database)).toEqual(all.map((migration) => migration.name));
  });

  it('lets instances that start together apply each migration exactly once', async () => {
    database = await createTestDatabase({ prepare: false });
    const db = database;
    const results = await Promise.all([migrate(db.sql), migrate(db.sql), migrate(db.sql)]);
    const names = results.flatMap((result) => result.applied);
    expect(names.sort()).toEqual((await readMigrations()).map((migration) => migration.name).sort());
  });

  it('rolls a failing migration back whole and reports which one failed', async () => {
    database = await createTestDatabase({ prepare: false });
    const broken: Migration[] = [
      ...(await readMigrations()),
      { name: '29990101000000_broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();', checksum: 'x' },
    ];
    await expect(migrate(database.sql, broken)).rejects.toThrow(/29990101000000_broken failed and was rolled back/);
    const [table] = await database.sql.query<{ exists: boolean }>("SELECT to_regclass('public.half_done') IS NOT NULL AS exists");
    expect(table?.exists).toBe(false);
    expect(await applied(database)).not.toContain('29990101000000_broken');
  });

  it('refuses to go on when an applied migration was edited or removed', async () => {
    database = await createTestDatabase({ prepare: false });
    const all = await readMigrations();
    await migrate(database.sql, all);
    const edited = all.map((migration, index) => (index === 0 ? { ...migration, checksum: 'edited' } : migration));
    await expect(migrate(database.sql, edited)).rejects.toThrow(MigrationError);
    await expect(migrate(database.sql, edited)).rejects.toThrow(/changed after it was applied/);
    await expect(migrate(database.sql, all.slice(1))).rejects.toThrow(/missing from the code/);
  });
});
