import { Redis, type RedisOptions } from 'ioredis';
import { createLogger, type Logger } from '../observability/logger.js';
import type { RedisCommands } from '../plugins/persisted-document-store.js';
import { createRedisEventTarget } from './redis-event-target.js';
import { createRedisSubscriber } from './redis-subscriber.js';
import type { PubSubEventTarget } from './tenant-pubsub.js';

/** Channel on which registry changes (suspensions, memberships) reach every instance. */
export const REGISTRY_CHANNEL = 'tenantgraph:registry';

export interface RedisConnections {
  /** Events through Redis pub/sub, for createTenantPubSub. */
  eventTarget: PubSubEventTarget;
  /** Plain commands, on the publishing connection (documents registered through APQ). */
  commands: RedisCommands;
  /** Publishes a raw message on a channel (registry changes). Rejects when Redis is unreachable. */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `onMessage` for every message on `channel`; resolves once subscribed (or left to the reconnection). */
  listen(channel: string, onMessage: (message: string) => void): Promise<void>;
  /**
   * Calls `listener` each time the subscriptions are re-established after Redis was lost: messages
   * published in between were missed (and are not replayed).
   */
  onResume(listener: () => void): void;
  /** Cheap, for /readyz: both connections are up and every channel is subscribed. */
  ready(): boolean;
  close(): Promise<void>;
}

/**
 * The Redis side of running several instances: domain events through Redis pub/sub (so a
 * mutation on one instance reaches subscribers on another) and a channel for registry changes.
 * Fails fast when Redis cannot be reached at start rather than silently running single-instance;
 * once running, an outage is survived: publishes fail (logged, counted), subscriptions come back
 * by themselves when Redis does.
 */
export async function connectRedis(url: string, options: { logger?: Logger } = {}): Promise<RedisConnections> {
  const logger = options.logger ?? createLogger('silent');
  // No offline queue: during an outage a publish fails at once instead of piling up in memory and
  // going out late. Subscriptions are renewed by createRedisSubscriber, which knows every channel.
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: false,
    autoResubscribe: false,
  };
  const publishClient = new Redis(url, clientOptions);
  const subscribeClient = new Redis(url, clientOptions);
  const clients = [publishClient, subscribeClient];
  // What a failed first connection reports ("Connection is closed.") hides why; its error event says.
  let lastError: Error | undefined;
  for (const client of clients) {
    // ioredis reconnects by itself; an error event without a listener would end the process.
    client.on('error', (error: Error) => {
      lastError = error;
      logger.debug({ err: error }, 'redis connection error');
    });
  }
  const subscriber = createRedisSubscriber(subscribeClient, logger);
  try {
    await Promise.all(clients.map((client) => client.connect()));
  } catch (error) {
    for (const client of clients) client.disconnect();
    throw lastError ?? error;
  }
  return {
    eventTarget: createRedisEventTarget({ publisher: publishClient, subscriber, logger }),
    commands: publishClient,
    async publish(channel, message) {
      await publishClient.publish(channel, message);
    },
    async listen(channel, onMessage) {
      await subscriber.subscribe(channel, onMessage).subscribed;
    },
    onResume: (listener) => subscriber.onResume(listener),
    ready: () => publishClient.status === 'ready' && subscriber.ready(),
    async close() {
      subscriber.closing();
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
