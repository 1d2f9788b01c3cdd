import { afterEach, describe, expect, it, vi } from 'vitest';

// An app on Node 20 that installed the SDK without its optional peer `ws` (npm does not install
// optional peers): the runtime has no WebSocket of its own, and the SDK must say what is missing.

afterEach(() => {
  vi.unstubAllGlobals();
  vi.doUnmock('ws');
  vi.resetModules();
});

describe('an SDK subscription on a runtime with no WebSocket and no ws package', () => {
  it('ends with CONNECTION_CLOSED saying what to install, not a bare "connection failed"', async () => {
    vi.stubGlobal('WebSocket', undefined);
    vi.doMock('ws', () => {
      throw new Error("Cannot find package 'ws'");
    });
    const { createSubscriptions } = await import('../../../src/sdk/subscribe.js');
    const { subscribe } = createSubscriptions({ url: 'http://127.0.0.1:9/graphql' });
    const results = [];
    for await (const result of subscribe('ProjectChanged', {})) results.push(result);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'CONNECTION_CLOSED', status: 0 } });
    expect(results[0]?.ok === false && results[0].error.message).toBe(
      'The connection failed: this runtime has no WebSocket: install the ws package (npm install ws) or pass webSocketImpl',
    );
  });
});
