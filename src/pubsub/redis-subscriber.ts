import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';

/**
 * One Redis connection in subscriber mode that owns its channels: it subscribes again to every
 * channel still wanted each time the connection becomes ready (ioredis' own autoResubscribe only
 * knows channels whose SUBSCRIBE succeeded, so one asked for during an outage would stay dead).
 */
export interface RedisSubscriber {
  /**
   * Calls `onMessage` with every message on `channel` until `unsubscribe` is called. `subscribed`
   * settles once Redis has answered the first SUBSCRIBE: true if it took, false if it is left to
   * the next reconnection (it never rejects).
   */
  subscribe(channel: string, onMessage: (message: string) => void): { subscribed: Promise<boolean>; unsubscribe(): void };
  /** Connected, and subscribed to every channel asked for. */
  ready(): boolean;
  /**
   * Calls `listener` each time the subscriptions are back after the connection was lost: messages
   * published in between were missed, so whatever they would have invalidated must be dropped.
   */
  onResume(listener: () => void): void;
  /** Before the connection is closed on purpose: its closing is then no outage to report. */
  closing(): void;
}

export function createRedisSubscriber(client: Redis, logger: Logger): RedisSubscriber {
  const handlers = new Map<string, Set<(message: string) => void>>();
  const resumeListeners: (() => void)[] = [];
  let allSubscribed = false;
  let everReady = false;
  let lostConnection = false;
  let closingOnPurpose = false;

  // Failures here are expected while Redis is down; the next 'ready' subscribes again.
  const send = (command: 'subscribe' | 'unsubscribe', channels: string[]) =>
    client[command](...channels).then(
      () => true,
      (error: unknown) => {
        logger.debug({ err: error, channels: channels.length }, `redis ${command} failed; retried on reconnect`);
        return false;
      },
    );

  client.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) {
      // A handler that throws would throw inside ioredis' socket callback and end the process.
      try {
        handler(message);
      } catch (error) {
        increment('redis_message_dropped');
        logger.error({ err: error, channel }, 'redis message handler failed; message dropped');
      }
    }
  });
  client.on('close', () => {
    if (everReady) lostConnection = true;
    // Once per outage (ioredis reports every failed reconnection as an 'error', logged at debug).
    if (allSubscribed && !closingOnPurpose)
      logger.warn('redis connection lost; events and registry changes pause until it is back');
    allSubscribed = false;
  });
  client.on('ready', () => {
    everReady = true;
    const channels = [...handlers.keys()];
    const resubscribed = channels.length > 0 ? send('subscribe', channels) : Promise.resolve(true);
    void resubscribed.then((ok) => {
      if (!ok || client.status !== 'ready') return;
      allSubscribed = true;
      if (!lostConnection) return;
      lostConnection = false;
      logger.warn({ channels: channels.length }, 'redis subscriptions re-established; messages in between were missed');
      for (const listener of resumeListeners) {
        try {
          listener();
        } catch (error) {
          logger.error({ err: error }, 'redis resume listener failed');
        }
      }
    });
  });

  return {
    subscribe(channel, onMessage) {
      let channelHandlers = handlers.get(channel);
      let subscribed = Promise.resolve(true);
      if (!channelHandlers) {
        channelHandlers = new Set();
        handlers.set(channel, channelHandlers);
        subscribed = send('subscribe', [channel]);
      }
      channelHandlers.add(onMessage);
      const unsubscribe = () => {
        const current = handlers.get(channel);
        if (!current?.delete(onMessage) || current.size > 0) return;
        handlers.delete(channel);
        void send('unsubscribe', [channel]);
      };
      return { subscribed, unsubscribe };
    },
    ready: () => allSubscribed && client.status === 'ready',
    onResume(listener) {
      resumeListeners.push(listener);
    },
    closing() {
      closingOnPurpose = true;
    },
  };
}
