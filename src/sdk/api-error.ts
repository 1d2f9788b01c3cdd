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
  /** The hash names no operation this server knows (send the text with it, unless only persisted operations run). */
  | 'PERSISTED_QUERY_NOT_FOUND'
  /** A subscription fell too far behind and was ended: subscribe again and refetch. */
  | 'SUBSCRIBER_TOO_SLOW'
  /** The server is shutting down: try again. */
  | 'UNAVAILABLE'
  /** The operation would cost more than the server's limit (page sizes multiply): ask for less. */
  | 'COST_LIMIT_EXCEEDED'
  /** The websocket closed for a reason other than the ones above (server shutdown: 1001). */
  | 'CONNECTION_CLOSED'
  /** Anything the server sent without one of the codes above (a GraphQL validation error, say). */
  | 'UNKNOWN';

export interface ApiError {
  code: ApiErrorCode;
  message: string;
  /** HTTP status of the response; 0 for what arrived over a websocket. */
  status: number;
  /** For BAD_USER_INPUT: each input field at fault. */
  fields: { field: string; message: string }[];
  /** The websocket close code, when the error is the socket closing. */
  closeCode?: number;
}

export type Result<Data> = { ok: true; data: Data } | { ok: false; error: ApiError };

const KNOWN_CODES = new Set<ApiErrorCode>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_SERVER_ERROR',
  'PERSISTED_OPERATION_REQUIRED',
  'PERSISTED_QUERY_NOT_FOUND',
  'SUBSCRIBER_TOO_SLOW',
  'UNAVAILABLE',
  'COST_LIMIT_EXCEEDED',
]);

interface GraphQLErrorLike {
  message?: string;
  extensions?: Record<string, unknown> | null;
}

/** The first GraphQL error of a response, as an ApiError. */
export function errorFromGraphQL(errors: readonly GraphQLErrorLike[] | undefined, status: number): ApiError {
  const first = errors?.[0];
  const extensions = (first?.extensions ?? {}) as { code?: string; fields?: ApiError['fields'] };
  const code =
    extensions.code && KNOWN_CODES.has(extensions.code as ApiErrorCode) ? (extensions.code as ApiErrorCode) : 'UNKNOWN';
  return { code, message: first?.message ?? 'Request failed', status, fields: extensions.fields ?? [] };
}
