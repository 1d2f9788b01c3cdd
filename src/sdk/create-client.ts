import { ClientError, GraphQLClient } from 'graphql-request';
import { getSdk, type Sdk } from './generated.js';
import { operationHash } from './operation-hash.js';

/** The codes the server answers with; switch on them instead of parsing messages. */
export type ApiErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR'
  | 'PERSISTED_OPERATION_REQUIRED'
  | 'PERSISTED_OPERATION_NOT_FOUND'
  /** Anything the server sent without one of the codes above (a GraphQL validation error, say). */
  | 'UNKNOWN';

export interface ApiError {
  code: ApiErrorCode;
  message: string;
  /** HTTP status of the response. */
  status: number;
  /** For BAD_USER_INPUT: each input field at fault. */
  fields: { field: string; message: string }[];
}

export type Result<Data> = { ok: true; data: Data } | { ok: false; error: ApiError };

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
}

export interface TenantgraphClient {
  sdk: TypedSdk;
  /** Releases the client's resources (open websockets once subscriptions exist). */
  close(): Promise<void>;
}

const KNOWN_CODES = new Set<ApiErrorCode>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_SERVER_ERROR',
  'PERSISTED_OPERATION_REQUIRED',
  'PERSISTED_OPERATION_NOT_FOUND',
]);

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
  return { sdk, close: async () => {} };
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
  const first = error.response.errors?.[0];
  const extensions = (first?.extensions ?? {}) as { code?: string; fields?: ApiError['fields'] };
  const code =
    extensions.code && KNOWN_CODES.has(extensions.code as ApiErrorCode) ? (extensions.code as ApiErrorCode) : 'UNKNOWN';
  return { code, message: first?.message ?? 'Request failed', status: error.response.status, fields: extensions.fields ?? [] };
}
