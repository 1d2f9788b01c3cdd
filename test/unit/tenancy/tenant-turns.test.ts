import { describe, expect, it } from 'vitest';
import { TenantTurns, TurnBudgetSpentError, TurnQueueFullError, TurnTimeoutError } from '../../../src/tenancy/tenant-turns.js';

/** Work that runs until `finish()` is called, recording when it started. */
function gate(log: string[], name: string) {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TenantTurns', () => {
  it('runs at most `perTenant` of one tenant, and lets another tenant use the capacity left', async () => {
    const turns = new TenantTurns({ concurrency: 3, perTenant: 1, waitMs: 5_000, queuePerTenant: 10 });
    const log: string[] = [];
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const running = [turns.run('a', a1.work), turns.run('a', a2.work), turns.run('b', b1.work)];
    await tick();
    expect(log).toEqual(['a1', 'b1']);
    expect(turns.runningNow('a')).toBe(1);
    a1.finish();
    await tick();
    expect(log).toEqual(['a1', 'b1', 'a2']);
    a2.finish();
    b1.finish();
    expect(await Promise.all(running)).toEqual(['a1', 'a2', 'b1']);
    expect(turns.runningNow()).toBe(0);
  });

  it('hands a freed slot to the tenants in turn, not to whoever queued most', async () => {
    const turns = new TenantTurns({ concurrency: 1, perTenant: 1, waitMs: 5_000, queuePerTenant: 10 });
    const log: string[] = [];
    const first = gate(log, 'first');
    const names = ['a1', 'a2', 'a3', 'b1', 'c1'];
    const gates = names.map((name) => gate(log, name));
    // The tenant is the name's first letter: a queues three before b and c queue one each.
    const all = [turns.run('x', first.work), ...gates.map((g, i) => turns.run((names[i] as string)[0] as string, g.work))];
    await tick();
    first.finish();
    for (const g of gates) {
      await tick();
      g.finish();
    }
    await Promise.all(all);
    // a's three waited behind each other; b and c each got the turn after a's first.
    expect(log).toEqual(['first', 'a1', 'b1', 'c1', 'a2', 'a3']);
  });

  it('refuses at once when a tenant has as much waiting as it may, and times out a wait', async () => {
    const turns = new TenantTurns({ concurrency: 1, perTenant: 1, waitMs: 50, queuePerTenant: 1 });
    const log: string[] = [];
    const holder = gate(log, 'holder');
    const held = turns.run('a', holder.work);
    const waiting = turns.run('a', async () => 'never');
    await expect(turns.run('a', async () => 'refused')).rejects.toBeInstanceOf(TurnQueueFullError);
    await expect(waiting).rejects.toBeInstanceOf(TurnTimeoutError);
    holder.finish();
    await held;
    // Nothing left behind: the next one runs at once.
    expect(await turns.run('a', async () => 'next')).toBe('next');
  });

  describe('with a share of the time', () => {
    /** A clock the test moves: work "lasts" what it adds to it. */
    function budgeted(options: { waitMs: number }) {
      const clock = { now: 0 };
      const turns = new TenantTurns({
        concurrency: 2,
        perTenant: 2,
        queuePerTenant: 10,
        share: 0.25,
        burstMs: 100,
        now: () => clock.now,
        ...options,
      });
      const lasting = (ms: number, name: string, log: string[]) => async () => {
        log.push(name);
        clock.now += ms;
        return name;
      };
      return { turns, clock, lasting };
    }

    it('charges each piece of work its duration ÷ the share, and the debt runs off in real time', async () => {
      const { turns, clock, lasting } = budgeted({ waitMs: 5_000 });
      const log: string[] = [];
      await turns.run('a', lasting(100, 'a1', log));
      expect(turns.owedMs('a')).toBe(400);
      clock.now += 150;
      expect(turns.owedMs('a')).toBe(250);
      expect(turns.owedMs('b')).toBe(0);
    });

    it('holds back a tenant past its burst until it is within it, while another tenant runs at once', async () => {
      const { turns, clock, lasting } = budgeted({ waitMs: 5_000 });
      const log: string[] = [];
      await turns.run('a', lasting(100, 'a1', log)); // owes 400, 300 past the burst
      const a2 = turns.run('a', lasting(0, 'a2', log));
      expect(await turns.run('b', lasting(10, 'b1', log))).toBe('b1');
      await tick();
      expect(log).toEqual(['a1', 'b1']);
      // The debt is paid as time passes: the wake-up (a real timer) finds a within its burst.
      clock.now += 300;
      expect(await a2).toBe('a2');
      expect(log).toEqual(['a1', 'b1', 'a2']);
    });

    it('refuses at once, saying when to come back, a tenant owing more than it could wait for', async () => {
      const { turns, lasting } = budgeted({ waitMs: 200 });
      await turns.run('a', lasting(100, 'a1', [])); // 300 ms past the burst, more than the 200 it may wait
      const refused = await turns.run('a', async () => 'never').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TurnBudgetSpentError);
      expect((refused as TurnBudgetSpentError).retryAfterMs).toBe(300);
      // Another tenant is not affected.
      expect(await turns.run('b', async () => 'b1')).toBe('b1');
    });

    it('sets no budget with a share of 1', async () => {
      const turns = new TenantTurns({ concurrency: 1, perTenant: 1, waitMs: 50, queuePerTenant: 1 });
      await turns.run('a', async () => await new Promise((resolve) => setTimeout(resolve, 20)));
      expect(turns.owedMs('a')).toBe(0);
      expect(await turns.run('a', async () => 'again')).toBe('again');
    });
  });
});
