import { type DocumentNode, print } from 'graphql';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import type { ApiError, ApiErrorCode, Result } from './api-error.js';
import { errorFromGraphQL } from './api-error.js';
import { type SubscriptionOperations, subscriptionDocuments } from './generated.js';
import { operationHash } from './operation-hash.js';

export type SubscriptionName = keyof SubscriptionOperations;
export type SubscriptionData<Name extends SubscriptionName> = SubscriptionOperations[Name]['data'];
export type SubscriptionVariables<Name extends SubscriptionName> = SubscriptionOperations[Name]['variables'];

/** A running subscription: iterate its results, or pass a sink to `subscribe` instead. */
export interface TypedSubscription<Data> extends AsyncIterable<Result<Data>> {
  /** Stops it; iteration then ends. */
  unsubscribe(): void;
}

export interface SubscriptionSink<Data> {
  /** Each event, or the error that ends the subscription (always the last call before `complete`). */
  next(result: Result<Data>): void;
  complete?(): void;
}

export interface WebSocketOptions {
  /** The server's /graphql URL (http(s) or ws(s)). */
  url: string;
  token?: string;
  tenantId?: string;
  persisted?: boolean;
  /** A WebSocket class; the global one by default, else the `ws` package (Node 20). */
  webSocketImpl?: unknown;
  /** Reconnect attempts after a dropped connection (never after a 44xx refusal); 0 by default. */
  retryAttempts?: number;
  /** Called each time the socket is (re)connected and acknowledged: after a reconnect, refetch. */
  onConnected?: () => void;
  /** Called when the socket closes: 4401/4403 when access ended, 1001 on server shutdown. */
  onClosed?: (closeCode: number, reason: string) => void;
}

/** Close codes the server uses, as the error codes results carry. */
const CLOSE_CODES: Record<number, ApiErrorCode> = {
  4401: 'UNAUTHENTICATED',
  4403: 'FORBIDDEN',
  4429: 'RATE_LIMITED',
};

const isCloseEvent = (value: unknown): value is { code: number; reason?: string } =>
  typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';

function errorFromFailure(failure: unknown): ApiError {
  if (Array.isArray(failure)) return errorFromGraphQL(failure, 0);
  if (isCloseEvent(failure)) {
    return {
      code: CLOSE_CODES[failure.code] ?? 'CONNECTION_CLOSED',
      message: failure.reason || 'The connection closed',
      status: 0,
      fields: [],
      closeCode: failure.code,
    };
  }
  const cause = failure instanceof Error ? `: ${failure.message}` : '';
  return { code: 'CONNECTION_CLOSED', message: `The connection failed${cause}`, status: 0, fields: [] };
}

/** The WebSocket class to use: the one given, the global one (Node 22+, browsers), else `ws`. */
async function webSocketClass(given: unknown): Promise<unknown> {
  if (given) return given;
  if (globalThis.WebSocket) return globalThis.WebSocket;
  try {
    return (await import('ws')).default;
  } catch {
    throw new Error('this runtime has no WebSocket: install the ws package (npm install ws) or pass webSocketImpl');
  }
}

/**
 * Typed subscriptions over graphql-ws, one lazily opened socket per client. The token goes in
 * connectionParams, never the URL. Every outcome is a Result: events as `ok`, and a refusal,
 * revocation (4401/4403) or a GraphQL error as a typed error that ends the subscription.
 */
export function createSubscriptions(options: WebSocketOptions) {
  let client: Promise<Client> | undefined;
  const connect = () => {
    client ??= (async () =>
      createWsClient({
        url: options.url.replace(/^http/, 'ws'),
        webSocketImpl: await webSocketClass(options.webSocketImpl),
        connectionParams: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          ...(options.tenantId ? { 'X-Tenant-ID': options.tenantId } : {}),
        },
        retryAttempts: options.retryAttempts ?? 0,
        // Keep an unused socket a moment, so the next subscribe reuses it and a server's closing
        // reason (4401/4403 after the last subscription ended) still arrives.
        lazyCloseTimeout: 2_000,
        // A refusal is final: retrying the same token cannot succeed.
        shouldRetry: (failure) => !(isCloseEvent(failure) && failure.code >= 4400 && failure.code < 4500),
        on: {
          connected: () => options.onConnected?.(),
          closed: (event) => {
            if (isCloseEvent(event)) options.onClosed?.(event.code, event.reason ?? '');
          },
        },
      }))();
    return client;
  };

  function subscribe<Name extends SubscriptionName>(
    name: Name,
    variables: SubscriptionVariables<Name>,
    sink?: SubscriptionSink<SubscriptionData<Name>>,
  ): TypedSubscription<SubscriptionData<Name>> {
    type Data = SubscriptionData<Name>;
    const queue: Result<Data>[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    let stop: (() => void) | undefined;
    let stopped = false;
    const deliver = (result: Result<Data>) => {
      if (ended) return;
      if (sink) sink.next(result);
      else queue.push(result);
      wake?.();
    };
    const end = () => {
      if (ended) return;
      ended = true;
      sink?.complete?.();
      wake?.();
    };

    void (async () => {
      const text = print(subscriptionDocuments[name] as DocumentNode);
      const payload = options.persisted
        ? { query: '', variables, extensions: { persistedQuery: { version: 1, sha256Hash: await operationHash(text) } } }
        : { query: text, variables };
      const ws = await connect();
      if (stopped) return end();
      stop = ws.subscribe<Data>(payload as { query: string }, {
        next: (message) =>
          deliver(
            message.errors?.length
              ? { ok: false, error: errorFromGraphQL(message.errors, 0) }
              : { ok: true, data: message.data as Data },
          ),
        error: (failure) => {
          deliver({ ok: false, error: errorFromFailure(failure) });
          end();
        },
        complete: end,
      });
    })().catch((failure: unknown) => {
      deliver({ ok: false, error: errorFromFailure(failure) });
      end();
    });

    const unsubscribe = () => {
      stopped = true;
      stop?.();
      end();
    };
    return {
      unsubscribe,
      async *[Symbol.asyncIterator]() {
        try {
          while (true) {
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            if (ended) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          // Leaving the loop early (break, throw) ends the subscription on the server too.
          unsubscribe();
        }
      },
    };
  }

  return {
    subscribe,
    async close() {
      if (client) await (await client).dispose();
    },
  };
}
