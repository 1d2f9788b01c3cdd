import { describe, expect, it } from 'vitest';
import { createSubscriptionSlots } from '../../../src/subscriptions/subscription-slots.js';

describe('subscription slots', () => {
  it('a tenant gets at most its limit; other tenants are counted apart', () => {
    const slots = createSubscriptionSlots(2);
    expect(slots.take('a')).toBeDefined();
    expect(slots.take('a')).toBeDefined();
    expect(slots.take('a')).toBeUndefined();
    expect(slots.take('b')).toBeDefined();
  });

  it('a slot given back twice frees one place, not two: an operation ending by two routes cannot free another’s', () => {
    const slots = createSubscriptionSlots(2);
    const first = slots.take('a');
    slots.take('a');
    first?.release();
    first?.release();
    expect(first?.released).toBe(true);
    expect(slots.take('a')).toBeDefined();
    expect(slots.take('a')).toBeUndefined();
  });
});
