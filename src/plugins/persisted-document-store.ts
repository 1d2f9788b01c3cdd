import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.js';

/**
 * Where documents registered through automatic persisted queries (APQ) are kept, by a key that
 * starts with the tenant (see scopedKey): what one tenant registered is never found by another, so
 * a hash that is found says nothing about what anyone else sent.
 */
export interface PersistedDocumentStore {
  /** The document registered under `key`; undefined when there is none or the store cannot answer. */
  get(key: string): Promise<string | undefined>;
  /** Registers a document; a store that cannot take it drops it (the client sends the text again). */
  set(key: string, document: string): Promise<void>;
}

/** Documents larger than this are run but not registered: such a client keeps sending the text. */
export const MAX_REGISTERED_DOCUMENT_BYTES = 32 * 1024;

/** In-process: at most `maxBytes` of documents (16 MB by default), least recently used dropped first. */
export function createMemoryDocumentStore(options: { maxBytes?: number } = {}): PersistedDocumentStore {
  const cache = new LRUCache<string, string>({
    maxSize: options.maxBytes ?? 16 * 1024 * 1024,
    sizeCalculation: (document, key) => document.length + key.length,
  });
  return {
    get: async (key) => cache.get(key),
    async set(key, document) {
      if (document.length <= MAX_REGISTERED_DOCUMENT_BYTES) cache.set(key, document);
    },
  };
}

/**
 * How long a lookup may wait for Redis: a Redis that accepts commands but does not answer (stalled,
 * or a network partition not yet noticed) must not hold requests. Past it, the hash is not found and
 * the client sends the text, as the protocol has it.
 */
const LOOKUP_DEADLINE_MS = 250;

function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // The command's own failure after the deadline has an owner too.
  work.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The commands the Redis store needs (an ioredis client). */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiry: 'EX', seconds: number): Promise<unknown>;
}

/**
 * Shared by every instance through Redis, so a document registered on one is found on the others.
 * Keys are namespaced (`tenantgraph:apq:`) and every one expires (`ttlSeconds`, a day by default):
 * under Redis's `maxmemory-policy volatile-lru` they are what Redis evicts first, never a key of
 * someone else's without an expiry. Redis unreachable: nothing is found (clients send the text).
 */
export function createRedisDocumentStore(
  redis: RedisCommands,
  options: { logger: Logger; ttlSeconds?: number; prefix?: string },
): PersistedDocumentStore {
  const prefix = options.prefix ?? 'tenantgraph:apq:';
  const ttl = options.ttlSeconds ?? 24 * 60 * 60;
  return {
    async get(key) {
      try {
        return (await withinDeadline(redis.get(prefix + key), LOOKUP_DEADLINE_MS)) ?? undefined;
      } catch (error) {
        options.logger.warn({ err: error }, 'persisted document lookup failed');
        return undefined;
      }
    },
    async set(key, document) {
      if (document.length > MAX_REGISTERED_DOCUMENT_BYTES) return;
      try {
        await redis.set(prefix + key, document, 'EX', ttl);
      } catch (error) {
        options.logger.warn({ err: error }, 'persisted document registration failed');
      }
    },
  };
}
