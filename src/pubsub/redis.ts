import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { PubSubEventTarget } from './tenant-pubsub.js';

/** Channel on which registry changes (suspensions, memberships) reach every instance. */
export const REGISTRY_CHANNEL = 'tenantgraph:registry';

export interface RedisConnections {
  /** Events through Redis pub/sub, for createTenantPubSub. */
  eventTarget: PubSubEventTarget;
  /** Publishes a raw message on a channel (registry changes). */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `onMessage` for every message on `channel`. */
  listen(channel: string, onMessage: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Redis side of running several instances: domain events through Redis pub/sub (so a
 * mutation on one instance reaches subscribers on another) and a channel for registry changes.
 * Fails fast when Redis cannot be reached rather than silently running single-instance.
 */
export async function connectRedis(url: string): Promise<RedisConnections> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false } as const;
  const publishClient = new Redis(url, options);
  const subscribeClient = new Redis(url, options);
  const channelClient = new Redis(url, options);
  const clients = [publishClient, subscribeClient, channelClient];
  for (const client of clients) client.on('error', () => {});
  await Promise.all(clients.map((client) => client.connect()));
  const handlers = new Map<string, (message: string) => void>();
  channelClient.on('message', (channel: string, message: string) => handlers.get(channel)?.(message));
  return {
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) as PubSubEventTarget,
    async publish(channel, message) {
      await publishClient.publish(channel, message);
    },
    async listen(channel, onMessage) {
      handlers.set(channel, onMessage);
      await channelClient.subscribe(channel);
    },
    async close() {
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
