import { describe, expect, it } from 'vitest';
import { isMissingPreparedStatement, mayHaveFailedToParse, PreparedStatements } from '../../../src/db/prepared-statements.js';

describe('prepared statements', () => {
  it('name a statement by its text’s digest: the same on every connection and in every process, never one name for two texts', () => {
    const prepared = new PreparedStatements(true);
    const [one, two] = [{}, {}];
    const first = prepared.nameFor('SELECT 1', one);
    expect(first).toMatch(/^tenantgraph_[0-9a-f]{32}$/);
    expect(prepared.nameFor('SELECT 1', two)).toBe(first);
    // Another process (here another instance) names the same text alike, whatever it named before.
    const elsewhere = new PreparedStatements(true);
    elsewhere.nameFor('SELECT 3', one);
    expect(elsewhere.nameFor('SELECT 1', one)).toBe(first);
    expect(prepared.nameFor('SELECT 2', one)).not.toBe(first);
  });

  it('are bounded in texts for the process and in statements per connection; past either, statements go unnamed', () => {
    const prepared = new PreparedStatements(true, 3, 2);
    const [one, two] = [{}, {}];
    expect(prepared.nameFor('a', one)).toBeDefined();
    expect(prepared.nameFor('b', one)).toBeDefined();
    // A third statement on a full connection goes unnamed, while those it holds keep their names.
    expect(prepared.nameFor('c', one)).toBeUndefined();
    expect(prepared.nameFor('a', one)).toBeDefined();
    // Another connection has room for it; a fourth text has no name anywhere.
    expect(prepared.nameFor('c', two)).toBeDefined();
    expect(prepared.nameFor('d', two)).toBeUndefined();
  });

  it('name nothing once disabled, or when never enabled', () => {
    const prepared = new PreparedStatements(true);
    const connection = {};
    expect(prepared.nameFor('SELECT 1', connection)).toBeDefined();
    prepared.disable();
    expect(prepared.active).toBe(false);
    expect(prepared.nameFor('SELECT 1', connection)).toBeUndefined();
    expect(new PreparedStatements(false).nameFor('SELECT 1', connection)).toBeUndefined();
  });

  it('tell a statement missing on its connection, and errors that may have come at a Parse, by SQLSTATE', () => {
    expect(isMissingPreparedStatement({ code: '26000' })).toBe(true);
    expect(isMissingPreparedStatement({ code: '42P05' })).toBe(true);
    expect(isMissingPreparedStatement({ code: '23505' })).toBe(false);
    expect(isMissingPreparedStatement(new Error('connection ended'))).toBe(false);
    // At Parse: an unknown column or table, a cached plan whose result changed, no code at all.
    for (const code of ['42703', '42P01', '0A000', '26000', 'XX000', undefined])
      expect(mayHaveFailedToParse({ code })).toBe(true);
    // When it runs: a unique or foreign key, a bad value, RLS's WITH CHECK, a cancelled statement.
    for (const code of ['23505', '23503', '22P02', '42501', '57014']) expect(mayHaveFailedToParse({ code })).toBe(false);
  });
});
