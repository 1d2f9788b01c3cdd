import WebSocket from 'ws';
import { waitFor } from './subscriber.js';

/** A message the server sent, as parsed from the wire. */
export interface ServerMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

/**
 * A graphql-transport-ws client that sends exactly what a test tells it to, in that order and
 * without waiting (what a hostile or buggy client can do), and records every message it gets.
 */
export interface RawProtocolClient {
  messages: ServerMessage[];
  readonly closeCode: number | undefined;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  /** Sends any message, as it is. */
  send(message: object): void;
  complete(id: string): void;
  /** Messages received for operation `id`. */
  messagesFor(id: string): ServerMessage[];
  close(): Promise<void>;
  closed(timeoutMs?: number): Promise<number>;
}

export async function connectRaw(httpUrl: string, token: string): Promise<RawProtocolClient> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: ServerMessage[] = [];
  let closeCode: number | undefined;
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
  socket.on('close', (code) => {
    closeCode = code;
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const send = (message: object) => socket.send(JSON.stringify(message));
  send({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } });
  await waitFor(
    () => messages.some((message) => message.type === 'connection_ack') || closeCode !== undefined,
    5_000,
    'connection_ack',
  );
  if (closeCode !== undefined) throw new Error(`connection refused with ${closeCode}`);
  return {
    messages,
    get closeCode() {
      return closeCode;
    },
    subscribe: (id, query, variables) => send({ id, type: 'subscribe', payload: { query, variables } }),
    complete: (id) => send({ id, type: 'complete' }),
    send,
    messagesFor: (id) => messages.filter((message) => message.id === id),
    async close() {
      if (closeCode !== undefined) return;
      const done = new Promise((resolve) => socket.once('close', resolve));
      socket.close(1000);
      await done;
    },
    async closed(timeoutMs = 5_000) {
      await waitFor(() => closeCode !== undefined, timeoutMs, 'the socket to close');
      return closeCode as number;
    },
  };
}
