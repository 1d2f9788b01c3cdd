import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscriber<Data> {
  /** Payloads received so far, in order. */
  messages: { data?: Data | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[];
  /** The websocket close code, once closed. */
  closeCode: number | undefined;
  /** Resolves once `count` messages have arrived (rejects after `timeoutMs`). */
  received(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the close code once the socket closes (rejects after `timeoutMs`). */
  closed(timeoutMs?: number): Promise<number>;
  /** Resolves once the server has acknowledged the connection. */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/** A real graphql-transport-ws client on a real socket, subscribed to one operation. */
export function subscribe<Data = Record<string, unknown>>(
  httpUrl: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Subscriber<Data> {
  let closeCode: number | undefined;
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    // Close codes are what the tests assert; the client need not print them.
    onNonLazyError: () => {},
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        closeCode = (event as { code?: number }).code;
      },
    },
  });
  const subscriber: Subscriber<Data> = {
    messages: [],
    get closeCode() {
      return closeCode;
    },
    connected,
    received: (count, timeoutMs = 5_000) => waitFor(() => subscriber.messages.length >= count, timeoutMs, `${count} messages`),
    closed: async (timeoutMs = 5_000) => {
      await waitFor(() => closeCode !== undefined, timeoutMs, 'the socket to close');
      return closeCode as number;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
  client.subscribe<Data>(
    { query, variables },
    {
      next: (message) => subscriber.messages.push(message as Subscriber<Data>['messages'][number]),
      error: () => {},
      complete: () => {},
    },
  );
  return subscriber;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
