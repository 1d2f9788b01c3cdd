import { createPubSub, filter, map, pipe } from 'graphql-yoga';
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

type PubSubEventTarget = NonNullable<NonNullable<Parameters<typeof createPubSub>[0]>['eventTarget']>;

export const topicOf = (event: DomainEvent): string[] =>
  event.type === 'task' ? ['task', event.projectId] : event.type === 'comment' ? ['comment', event.taskId] : ['project'];

export function createTenantPubSub(options: { eventTarget?: PubSubEventTarget } = {}): TenantPubSub {
  const pubsub = createPubSub<Record<string, [unknown]>>(options.eventTarget ? { eventTarget: options.eventTarget } : undefined);
  return {
    publish(event) {
      pubsub.publish(scopedKey(topicOf(event), event.tenantId), event);
    },
    // Repeater operators rather than an async generator: ending a subscription must detach it at
    // once, not after the next event arrives.
    subscribe(tenantId, topic) {
      return pipe(
        pubsub.subscribe(scopedKey(topic, tenantId)),
        map((received) => parseDomainEvent(received)),
        filter((event): event is DomainEvent => {
          if (event?.tenantId === tenantId) return true;
          increment('foreign_event_dropped');
          return false;
        }),
      );
    },
  };
}
