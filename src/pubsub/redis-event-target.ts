import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { parseDomainEvent } from './events.js';
import type { RedisSubscriber } from './redis-subscriber.js';
import type { PubSubEventTarget } from './tenant-pubsub.js';

/**
 * Domain events through Redis pub/sub, in place of @graphql-yoga/redis-event-target, which leaves
 * the publish promise unowned (a Redis outage during a mutation then ends the process) and throws
 * inside ioredis on a message that is not JSON (ending every instance subscribed to its channel).
 * Here a publish that fails is logged and counted, and a message that is not a well-formed event
 * is dropped and counted: Redis is a shared, untrusted input.
 */
export function createRedisEventTarget(options: {
  publisher: Redis;
  subscriber: RedisSubscriber;
  logger: Logger;
}): PubSubEventTarget {
  const { publisher, subscriber, logger } = options;
  const listeners = new Map<string, { callbacks: Set<(event: Event) => void>; unsubscribe: () => void }>();

  const deliver = (channel: string, message: string) => {
    const event = parseEvent(message);
    if (!event) {
      increment('redis_message_dropped');
      logger.warn({ channel, bytes: message.length }, 'malformed message on a redis events channel dropped');
      return;
    }
    const callbacks = listeners.get(channel)?.callbacks;
    for (const callback of [...(callbacks ?? [])]) callback(new CustomEvent(channel, { detail: event }));
  };

  return {
    addEventListener(type, callback) {
      let topic = listeners.get(type);
      if (!topic) {
        const { unsubscribe } = subscriber.subscribe(type, (message) => deliver(type, message));
        topic = { callbacks: new Set(), unsubscribe };
        listeners.set(type, topic);
      }
      topic.callbacks.add(callback);
    },
    removeEventListener(type, callback) {
      const topic = listeners.get(type);
      if (!topic?.callbacks.delete(callback) || topic.callbacks.size > 0) return;
      listeners.delete(type);
      topic.unsubscribe();
    },
    dispatchEvent(event) {
      const { type } = event;
      publisher.publish(type, JSON.stringify((event as CustomEvent).detail)).catch((error: unknown) => {
        increment('redis_publish_failed');
        logger.warn({ err: error, channel: type }, 'redis publish failed; the event is not delivered to other instances');
      });
      return true;
    },
  };
}

function parseEvent(message: string) {
  try {
    return parseDomainEvent(JSON.parse(message));
  } catch {
    return undefined;
  }
}
