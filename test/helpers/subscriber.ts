import type { Result } from '../../src/sdk/api-error.js';
import { createClient } from '../../src/sdk/index.js';
import type { SubscriptionData, SubscriptionName, SubscriptionVariables } from '../../src/sdk/subscribe.js';

export interface Subscriber<Data> {
  /** Results received so far, in order: events, and at most one error, last. */
  messages: Result<Data>[];
  /** The data of each event received so far. */
  readonly events: Data[];
  /** The websocket close code, once the server closed the connection. */
  readonly closeCode: number | undefined;
  /** Resolves once `count` results have arrived (rejects after `timeoutMs`). */
  received(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the close code once the server closes the socket (rejects after `timeoutMs`). */
  closed(timeoutMs?: number): Promise<number>;
  /** Resolves once the server has acknowledged the connection. */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/** A subscription through the generated SDK, over a real socket, that records what it receives. */
export function subscribe<Name extends SubscriptionName>(
  httpUrl: string,
  token: string | undefined,
  name: Name,
  variables: SubscriptionVariables<Name>,
  options: { persisted?: boolean } = {},
): Subscriber<SubscriptionData<Name>> {
  type Data = SubscriptionData<Name>;
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  let socketCloseCode: number | undefined;
  const client = createClient({
    url: httpUrl,
    token,
    persisted: options.persisted,
    onConnected: () => onConnected(),
    // 1000 is the client itself closing an unused socket; the tests assert what the server does.
    onClosed: (code) => {
      if (code !== 1000) socketCloseCode ??= code;
    },
  });
  const messages: Result<Data>[] = [];
  const subscription = client.subscribe(name, variables, { next: (result) => messages.push(result) });
  return {
    messages,
    get events() {
      return messages.flatMap((message) => (message.ok ? [message.data] : []));
    },
    get closeCode() {
      return socketCloseCode;
    },
    connected,
    received: (count, timeoutMs = 5_000) => waitFor(() => messages.length >= count, timeoutMs, `${count} messages`),
    closed: async (timeoutMs = 5_000) => {
      await waitFor(() => socketCloseCode !== undefined, timeoutMs, 'the socket to close');
      return socketCloseCode as number;
    },
    dispose: async () => {
      subscription.unsubscribe();
      await client.close();
    },
  };
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
