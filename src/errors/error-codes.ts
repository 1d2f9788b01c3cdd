import { GraphQLError } from 'graphql';

/**
 * The error codes a client can switch on, with their HTTP status when they end a request before
 * execution. Everything else a resolver throws is masked as INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  /** A subscription ended because its client fell too far behind; resubscribe and refetch. */
  SUBSCRIBER_TOO_SLOW: 503,
  /** The server is shutting down, or a dependency (PostgreSQL) is unreachable: try again. */
  UNAVAILABLE: 503,
  /** The operation would cost more than the limit (fields weighted by page sizes); ask for less. */
  COST_LIMIT_EXCEEDED: 400,
  INTERNAL_SERVER_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCode;

const GENERIC_MESSAGES: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Access denied',
  NOT_FOUND: 'Not found',
  BAD_USER_INPUT: 'Invalid input',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many requests',
  SUBSCRIBER_TOO_SLOW: 'Subscription ended: events arrived faster than they were received; subscribe again and refetch',
  INTERNAL_SERVER_ERROR: 'Unexpected error',
  UNAVAILABLE: 'The service is temporarily unavailable; try again',
  COST_LIMIT_EXCEEDED: 'The operation costs more than the limit',
};

/** The message a client is told for `code` when nothing more specific may be said. */
export const genericMessage = (code: ErrorCode): string => GENERIC_MESSAGES[code];

export interface FieldProblem {
  /** The input path, e.g. `input.title`. */
  field: string;
  message: string;
}

/** A client-facing error: a code, a generic message, and for bad input the fields at fault. */
export function clientError(
  code: ErrorCode,
  options: {
    message?: string;
    fields?: FieldProblem[];
    http?: boolean;
    /** When to try again (RATE_LIMITED, UNAVAILABLE): 1 s unless said; also told in the extensions when said. */
    retryAfterSeconds?: number;
  } = {},
): GraphQLError {
  const retryable = code === 'UNAVAILABLE' || code === 'RATE_LIMITED';
  return new GraphQLError(options.message ?? GENERIC_MESSAGES[code], {
    extensions: {
      code,
      ...(options.fields ? { fields: options.fields } : {}),
      ...(retryable && options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
      ...(options.http
        ? {
            http: {
              status: ErrorCode[code],
              ...(retryable ? { headers: { 'retry-after': String(options.retryAfterSeconds ?? 1) } } : {}),
            },
          }
        : {}),
    },
  });
}

/** "Not yours" and "does not exist" are the same answer. */
export const notFound = () => clientError('NOT_FOUND');
export const forbidden = () => clientError('FORBIDDEN');
export const badInput = (fields: FieldProblem[]) => clientError('BAD_USER_INPUT', { fields });
