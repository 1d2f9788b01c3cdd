import type { DocumentNode } from 'graphql';
import type { YogaServerOptions } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

/**
 * A parsed document and its source key take roughly this many bytes of heap per character of
 * source (measured: 55 for the SDK's operations, 41 for a wide generated document). The estimate
 * only has to be in the right range: it turns a byte budget into a bound on what the caches hold.
 */
const HEAP_BYTES_PER_SOURCE_CHAR = 60;

export interface DocumentCacheOptions {
  /** Estimated heap the cached documents and parse errors may take together, in bytes. */
  maxBytes: number;
  /** Documents longer than this (characters) are parsed every time rather than cached. */
  maxDocumentChars: number;
}

export const DEFAULT_DOCUMENT_CACHE: DocumentCacheOptions = { maxBytes: 64 * 1024 * 1024, maxDocumentChars: 32 * 1024 };

/**
 * Yoga's parse and validation caches, bounded by the bytes they hold rather than by a number of
 * entries: Yoga's default keeps 1,024 documents of any size, so a stream of distinct large
 * documents grew the heap without bound. Validation results are kept per parsed document (a
 * WeakMap in Yoga), so they leave with it.
 */
export function boundedDocumentCache(
  options: DocumentCacheOptions = DEFAULT_DOCUMENT_CACHE,
): NonNullable<Exclude<YogaServerOptions<object, object>['parserAndValidationCache'], boolean>> {
  const sized = <T extends object>() =>
    new LRUCache<string, T>({
      maxSize: options.maxBytes,
      maxEntrySize: options.maxDocumentChars * HEAP_BYTES_PER_SOURCE_CHAR,
      sizeCalculation: (_value, source) => Math.max(1, source.length * HEAP_BYTES_PER_SOURCE_CHAR),
    });
  const documents = sized<DocumentNode>();
  const errors = sized<object>();
  return {
    documentCache: { get: (source) => documents.get(source), set: (source, document) => void documents.set(source, document) },
    errorCache: {
      get: (source) => errors.get(source),
      set: (source, error) => void (typeof error === 'object' && error !== null && errors.set(source, error)),
    },
    validationCache: true,
  };
}
