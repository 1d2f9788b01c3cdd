import { describe, expect, it } from 'vitest';
import { inlineValues } from '../../../src/db/merged-tenant-begin.js';

// The merged tenant statement carries its values as literals: an escaping mistake here would be an
// injection, so every kind of value Prisma sends is pinned down.

describe('inlineValues', () => {
  it('replaces each $n with its value, $10 not read as $1 followed by 0', () => {
    const values = Array.from({ length: 10 }, (_, i) => `v${i + 1}`);
    expect(inlineValues('SELECT $1, $10, $2', values)).toBe("SELECT 'v1', 'v10', 'v2'");
  });

  it('escapes quotes and backslashes, so a value never ends its literal', () => {
    expect(inlineValues('SELECT $1', ["O'Brien'); DROP TABLE tasks; --"])).toBe("SELECT 'O''Brien''); DROP TABLE tasks; --'");
    // One backslash in the value: doubled inside an E'' literal.
    expect(inlineValues('SELECT $1', ['a\\b'])).toBe("SELECT  E'a\\\\b'");
  });

  it('leaves $n inside quoted strings and identifiers alone', () => {
    expect(inlineValues(`SELECT '$1', "col$1", $1`, ['x'])).toBe(`SELECT '$1', "col$1", 'x'`);
    expect(inlineValues(`SELECT 'it''s $1', $1`, ['x'])).toBe(`SELECT 'it''s $1', 'x'`);
    // An unterminated quote runs to the end: nothing after it is taken for a placeholder.
    expect(inlineValues(`SELECT $1, 'open $1`, ['x'])).toBe(`SELECT 'x', 'open $1`);
  });

  it('writes NULL, numbers, booleans, dates, JSON, arrays and bytes the way PostgreSQL reads them', () => {
    expect(inlineValues('SELECT $1, $2, $3, $4', [null, undefined, 42, true])).toBe("SELECT NULL, NULL, '42', 'true'");
    expect(inlineValues('SELECT $1', [{ a: "it's" }])).toBe(`SELECT '{"a":"it''s"}'`);
    expect(inlineValues('SELECT $1', [['a', 'b,c']])).toBe(`SELECT '{"a","b,c"}'`);
    expect(inlineValues('SELECT $1', [Buffer.from([0, 255])])).toBe("SELECT '\\x00ff'::bytea");
    expect(inlineValues('SELECT $1', [new Date('2027-01-31T12:00:00Z')])).toMatch(
      /^SELECT '2027-01-31T\d\d:00:00\.000[+-]\d\d:\d\d'$/,
    );
  });

  it('refuses a placeholder without a value', () => {
    expect(() => inlineValues('SELECT $2', ['only one'])).toThrow('no value for placeholder $2');
  });
});
