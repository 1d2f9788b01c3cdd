/** One operation's claim on its tenant's budget of subscriptions; given back once, however it ends. */
export interface SubscriptionSlot {
  readonly released: boolean;
  /** Gives the slot back; calling it again does nothing. */
  release(): void;
}

export interface SubscriptionSlots {
  /** A slot of `tenantId`'s, or undefined when all of them are taken. */
  take(tenantId: string): SubscriptionSlot | undefined;
}

/**
 * How many operations each tenant runs on this instance, as claims rather than a bare counter: a
 * claim can only be given back once, so an operation that ends by two routes at once (its complete
 * and its socket closing) cannot give back another operation's slot.
 */
export function createSubscriptionSlots(perTenant: number): SubscriptionSlots {
  const held = new Map<string, number>();
  return {
    take(tenantId: string): SubscriptionSlot | undefined {
      const taken = held.get(tenantId) ?? 0;
      if (taken >= perTenant) return undefined;
      held.set(tenantId, taken + 1);
      let released = false;
      return {
        get released() {
          return released;
        },
        release() {
          if (released) return;
          released = true;
          const left = (held.get(tenantId) ?? 1) - 1;
          if (left > 0) held.set(tenantId, left);
          else held.delete(tenantId);
        },
      };
    },
  };
}
