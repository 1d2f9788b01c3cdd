import { setMaxListeners } from 'node:events';
import { Repeater } from 'graphql-yoga';
import { increment } from '../observability/metrics.js';
import { scopedKey } from '../tenancy/scoped-key.js';
import { type DomainEvent, parseDomainEvent } from './events.js';

/**
 * Publish/subscribe where every topic starts with the tenant: a subscriber names only the rest of
 * the topic and gets its own tenant's by construction. Events are re-validated on receipt, and one
 * whose tenant is not the topic's is dropped and counted — it can only come from a bug or forgery.
 */
export interface TenantPubSub {
  publish(event: DomainEvent): void;
  subscribe(tenantId: string, topic: readonly string[]): AsyncIterable<DomainEvent>;
}

/** The transport: an in-process EventTarget, or one backed by Redis for several instances. */
export interface PubSubEventTarget {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
}

/**
 * Ends a subscription whose client does not keep up: its undelivered events reached the limit.
 * The events already queued are still delivered, then the stream throws this.
 */
export class SubscriberTooSlowError extends Error {
  constructor(readonly limit: number) {
    super(`subscriber fell ${limit} events behind`);
  }
}

/** The most undelivered events one subscription may hold (Repeater refuses more than 1024 pending). */
export const MAX_SUBSCRIBER_BUFFER = 1024;

export const topicOf = (event: DomainEvent): string[] =>
  event.type === 'task' ? ['task', event.projectId] : event.type === 'comment' ? ['comment', event.taskId] : ['project'];

/**
 * Node warns ("possible EventTarget memory leak") past ten listeners of one topic; many subscribers
 * of one project are normal here, and their number is bounded by SUBSCRIPTIONS_PER_TENANT.
 */
function inProcessEventTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

export function createTenantPubSub(options: { eventTarget?: PubSubEventTarget; bufferLimit?: number } = {}): TenantPubSub {
  const target = options.eventTarget ?? inProcessEventTarget();
  const bufferLimit = Math.min(options.bufferLimit ?? 100, MAX_SUBSCRIBER_BUFFER);
  return {
    publish(event) {
      target.dispatchEvent(new CustomEvent(scopedKey(topicOf(event), event.tenantId), { detail: event }));
    },
    // A Repeater rather than an async generator: ending a subscription must detach it at once, not
    // after the next event arrives. Each subscriber has its own bounded queue, so a slow client
    // costs at most `bufferLimit` events of memory and never holds up publishers or other subscribers.
    subscribe(tenantId, topic) {
      const key = scopedKey(topic, tenantId);
      return new Repeater<DomainEvent>((push, stop) => {
        let undelivered = 0;
        const onEvent = (message: Event) => {
          const event = parseDomainEvent((message as CustomEvent).detail);
          if (event?.tenantId !== tenantId) {
            increment('foreign_event_dropped');
            return;
          }
          if (undelivered >= bufferLimit) {
            increment('subscriber_too_slow');
            target.removeEventListener(key, onEvent);
            stop(new SubscriberTooSlowError(bufferLimit));
            return;
          }
          undelivered++;
          push(event).then(
            () => undelivered--,
            () => {},
          );
        };
        target.addEventListener(key, onEvent);
        stop.then(() => target.removeEventListener(key, onEvent));
      });
    },
  };
}
