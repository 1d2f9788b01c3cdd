import type { Plugin } from 'graphql-yoga';
import { clientError } from '../errors/error-codes.js';
import { increment } from '../observability/metrics.js';
import type { GraphQLContext } from '../schema/context.js';
import type { SubscriptionSlots } from '../subscriptions/subscription-slots.js';

/**
 * Subscriptions over plain HTTP (server-sent events) take a slot of their tenant's
 * SUBSCRIPTIONS_PER_TENANT like websocket ones — the same budget, shared — and give it back when
 * the stream ends, however it ends (completed, revoked, the client gone). Websocket operations are
 * counted by the websocket server, per subscribe message, before they get here.
 */
export function useHttpSubscriptionSlots(slots: SubscriptionSlots): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as GraphQLContext;
      if (context.connection) return;
      const slot = slots.take(context.tenant.tenantId);
      if (!slot) {
        increment('subscription_tenant_limit');
        setResultAndStopExecution({
          errors: [clientError('RATE_LIMITED', { message: 'Too many subscriptions for this tenant' })],
        });
        return;
      }
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in Object(result))) {
            slot.release();
            return;
          }
          return { onEnd: () => slot.release() };
        },
        onSubscribeError: () => slot.release(),
      };
    },
  };
}
