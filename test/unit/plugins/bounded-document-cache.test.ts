import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { boundedDocumentCache } from '../../../src/plugins/bounded-document-cache.js';

describe('the document cache', () => {
  it('holds at most its byte budget, however many distinct documents arrive', () => {
    const budget = 1024 * 1024;
    const cache = boundedDocumentCache({ maxBytes: budget, maxDocumentChars: 4_096 });
    const documents = cache.documentCache;
    const sources = Array.from({ length: 2_000 }, (_, i) => `{ a${i}: viewer { role } }\n# ${'x'.repeat(1_000)}`);
    for (const source of sources) documents?.set(source, parse(source));
    const kept = sources.filter((source) => documents?.get(source) !== undefined);
    // 1 MiB at ~60 bytes per source character is ~17 documents of ~1 KB: far fewer than were sent.
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length * 1_030 * 60).toBeLessThanOrEqual(budget);
    // The most recent are the ones kept.
    expect(kept.at(-1)).toBe(sources.at(-1));
  });

  it('does not cache a document longer than maxDocumentChars at all', () => {
    const cache = boundedDocumentCache({ maxBytes: 64 * 1024 * 1024, maxDocumentChars: 1_000 });
    const source = `{ viewer { role } }\n# ${'x'.repeat(2_000)}`;
    cache.documentCache?.set(source, parse(source));
    expect(cache.documentCache?.get(source)).toBeUndefined();
  });

  it('bounds parse errors, keyed by their source, the same way', () => {
    const cache = boundedDocumentCache({ maxBytes: 64 * 1024 * 1024, maxDocumentChars: 1_000 });
    const long = `{ ${'x'.repeat(2_000)}`;
    cache.errorCache?.set(long, new Error('Syntax Error'));
    expect(cache.errorCache?.get(long)).toBeUndefined();
    cache.errorCache?.set('{', new Error('Syntax Error'));
    expect(cache.errorCache?.get('{')).toBeInstanceOf(Error);
  });
});
