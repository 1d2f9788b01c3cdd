import { ClientError, GraphQLClient } from 'graphql-request';
import { type ApiError, errorFromGraphQL, type Result } from './api-error.js';
import { getSdk, type Sdk } from './generated.js';
import { operationHash } from './operation-hash.js';
import {
  createSubscriptions,
  type SubscriptionData,
  type SubscriptionName,
  type SubscriptionSink,
  type SubscriptionVariables,
  type TypedSubscription,
} from './subscribe.js';

/** The generated SDK, with every operation answering a typed Result instead of throwing on errors. */
export type TypedSdk = {
  [Operation in keyof Sdk]: (...args: Parameters<Sdk[Operation]>) => Promise<Result<Awaited<ReturnType<Sdk[Operation]>>>>;
};

export interface ClientOptions {
  /** The server's /graphql URL. */
  url: string;
  /** A bearer token; sent in the Authorization header, never in the URL. */
  token?: string;
  /** More headers for every request (X-Request-ID, X-Tenant-ID, …). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /**
   * Send each operation as its hash instead of its text, for a server that runs persisted
   * operations only (PERSISTED_OPERATIONS_ONLY=true).
   */
  persisted?: boolean;
  /** For subscriptions: a WebSocket class (the global one by default, else the `ws` package). */
  webSocketImpl?: unknown;
  /** For subscriptions: reconnect attempts after a dropped connection (never after a refusal). */
  retryAttempts?: number;
  /** For subscriptions: called each time the websocket is (re)connected; after a reconnect, refetch. */
  onConnected?: () => void;
  /** For subscriptions: called when the websocket closes (4401/4403: access ended; 1001: shutdown). */
  onClosed?: (closeCode: number, reason: string) => void;
}

export interface TenantgraphClient {
  sdk: TypedSdk;
  /**
   * Starts a subscription of schema/operations by name, over one shared websocket. Results arrive
   * at `sink`, or by iterating the returned subscription; an error result is always the last.
   */
  subscribe<Name extends SubscriptionName>(
    name: Name,
    variables: SubscriptionVariables<Name>,
    sink?: SubscriptionSink<SubscriptionData<Name>>,
  ): TypedSubscription<SubscriptionData<Name>>;
  /** Closes the websocket, if one is open. */
  close(): Promise<void>;
}

export function createClient(options: ClientOptions): TenantgraphClient {
  const client = new GraphQLClient(options.url, {
    headers: { ...options.headers, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    fetch: options.persisted ? sendingHashes(options.fetch ?? fetch) : (options.fetch ?? fetch),
  });
  const raw = getSdk(client);
  const sdk = Object.fromEntries(
    Object.entries(raw).map(([name, operation]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return { ok: true, data: await (operation as (...a: unknown[]) => Promise<unknown>)(...args) };
        } catch (error) {
          if (error instanceof ClientError) return { ok: false, error: toApiError(error) };
          throw error;
        }
      },
    ]),
  ) as TypedSdk;
  const subscriptions = createSubscriptions({
    url: options.url,
    token: options.token,
    tenantId: options.headers?.['X-Tenant-ID'] ?? options.headers?.['x-tenant-id'],
    persisted: options.persisted,
    webSocketImpl: options.webSocketImpl,
    retryAttempts: options.retryAttempts,
    onConnected: options.onConnected,
    onClosed: options.onClosed,
  });
  return { sdk, subscribe: subscriptions.subscribe, close: subscriptions.close };
}

/** A fetch that replaces the operation text in each request body with its persisted-operation hash. */
function sendingHashes(send: typeof fetch): typeof fetch {
  return async (input, init) => {
    if (typeof init?.body !== 'string') return send(input, init);
    const { query, ...rest } = JSON.parse(init.body) as { query?: string; extensions?: Record<string, unknown> };
    if (typeof query !== 'string') return send(input, init);
    const persistedQuery = { version: 1, sha256Hash: await operationHash(query) };
    return send(input, { ...init, body: JSON.stringify({ ...rest, extensions: { ...rest.extensions, persistedQuery } }) });
  };
}

function toApiError(error: ClientError): ApiError {
  return errorFromGraphQL(error.response.errors, error.response.status);
}
