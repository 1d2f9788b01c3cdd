import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import {
  createMemoryDocumentStore,
  createRedisDocumentStore,
  MAX_REGISTERED_DOCUMENT_BYTES,
} from '../../../src/plugins/persisted-document-store.js';
import { connectRedis } from '../../../src/pubsub/redis.js';
import { startPrivateRedis } from '../../helpers/private-redis.js';

describe('the store of documents registered through APQ', () => {
  it('holds at most its byte budget in memory, dropping the least recently used first', async () => {
    const store = createMemoryDocumentStore({ maxBytes: 3_000 });
    const document = (n: number) => `query Q${n} { viewer { role } }`.padEnd(900, ' ');
    for (let n = 0; n < 3; n++) await store.set(`k${n}`, document(n));
    await store.get('k0');
    await store.set('k3', document(3));
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k0')).toBe(document(0));
    expect(await store.get('k3')).toBe(document(3));
  });

  it('does not register a document over the size limit', async () => {
    const store = createMemoryDocumentStore();
    await store.set('big', 'x'.repeat(MAX_REGISTERED_DOCUMENT_BYTES + 1));
    expect(await store.get('big')).toBeUndefined();
  });

  it('in Redis: a namespaced key that expires; nothing found, and no error, while Redis is away', async () => {
    const redis = await startPrivateRedis();
    const connections = await connectRedis(redis.url);
    try {
      const store = createRedisDocumentStore(connections.commands, { logger: createLogger('silent') });
      await store.set('t:1\u0000apq\u0000abc', '{ viewer { role } }');
      expect(await store.get('t:1\u0000apq\u0000abc')).toBe('{ viewer { role } }');
      const probe = new Redis(redis.url);
      expect(await probe.keys('*')).toEqual(['tenantgraph:apq:t:1\u0000apq\u0000abc']);
      expect(await probe.ttl('tenantgraph:apq:t:1\u0000apq\u0000abc')).toBeGreaterThan(86_000);
      probe.disconnect();
      await redis.stop();
      await expect(store.set('k', 'q')).resolves.toBeUndefined();
      await expect(store.get('t:1\u0000apq\u0000abc')).resolves.toBeUndefined();
    } finally {
      await connections.close();
      await redis.destroy();
    }
  });
});

describe('the Redis store, against a Redis that accepts commands but never answers', () => {
  it('finds nothing within a quarter of a second rather than holding the request', async () => {
    const redis = await startPrivateRedis();
    const connections = await connectRedis(redis.url);
    try {
      const store = createRedisDocumentStore(connections.commands, { logger: createLogger('silent') });
      await store.set('t:1\u0000apq\u0000abc', '{ viewer { role } }');
      redis.pause();
      const started = Date.now();
      expect(await store.get('t:1\u0000apq\u0000abc')).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2_000);
      redis.resume();
      expect(await store.get('t:1\u0000apq\u0000abc')).toBe('{ viewer { role } }');
    } finally {
      await connections.close();
      await redis.destroy();
    }
  });
});
