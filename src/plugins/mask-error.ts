import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { isConstraintViolation, isDatabaseUnavailable, isRecordNotFound, isRlsViolation } from '../errors/database-errors.js';
import { ErrorCode } from '../errors/error-codes.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { peekTenant } from '../tenancy/tenant-context.js';

const CLIENT_CODES = new Set(Object.keys(ErrorCode));
const MESSAGES: Record<string, string> = {
  FORBIDDEN: 'Access denied',
  NOT_FOUND: 'Not found',
  BAD_USER_INPUT: 'Invalid input',
  UNAVAILABLE: 'The service is temporarily unavailable; try again',
  INTERNAL_SERVER_ERROR: 'Unexpected error',
};

/**
 * Yoga's error mask: our own coded errors and GraphQL's own (syntax, validation) pass; database and
 * programming errors become a generic coded error, with the detail in the log only — never SQL, a
 * stack or another tenant's identifier in a response.
 */
export function createErrorMask(logger: Logger) {
  return (error: unknown): Error => {
    if (!isGraphQLError(error)) return coded(undefined, 'INTERNAL_SERVER_ERROR');
    const original = error.originalError;
    if (!original || isGraphQLError(original)) {
      const code = (isGraphQLError(original) ? original : error).extensions?.code;
      if (!original || (typeof code === 'string' && CLIENT_CODES.has(code))) return error;
    }
    // A variable that does not coerce to its type (a bad DateTime, an Int out of range) is the
    // client's input: GraphQL's message names the variable and the expected type, nothing more.
    if (!error.path && error.message.startsWith('Variable "$')) return coded(error, 'BAD_USER_INPUT', error.message);
    // Pothos refuses malformed cursors, page sizes and global ids with its own validation error.
    if (original?.name === 'PothosValidationError') return coded(error, 'BAD_USER_INPUT');
    if (isRlsViolation(original)) {
      increment('rls_violation');
      logger.warn(
        { securityEvent: 'rls_violation', tenant: peekTenant(), path: error.path },
        'row-level security refused a statement',
      );
      return coded(error, 'FORBIDDEN');
    }
    if (isDatabaseUnavailable(original)) {
      // PostgreSQL away (restart, failover, terminated backend): retryable, and a 503 so that
      // load balancers and clients treat it as such.
      increment('database_unavailable');
      logger.warn({ err: original, path: error.path }, 'database unavailable');
      return coded(error, 'UNAVAILABLE', MESSAGES.UNAVAILABLE, { status: 503, headers: { 'retry-after': '1' } });
    }
    if (isRecordNotFound(original)) return coded(error, 'NOT_FOUND');
    if (isConstraintViolation(original)) return coded(error, 'BAD_USER_INPUT');
    logger.error({ err: original, path: error.path }, 'unexpected error in a resolver');
    return coded(error, 'INTERNAL_SERVER_ERROR');
  };
}

// By name, not instanceof: graphql ships as both CommonJS and ESM, and a plugin may load the other copy.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError' && 'extensions' in error);
}

function coded(
  error: GraphQLError | undefined,
  code: keyof typeof MESSAGES,
  message = MESSAGES[code],
  http?: { status: number; headers?: Record<string, string> },
): GraphQLError {
  return createGraphQLError(message ?? 'Unexpected error', {
    nodes: error?.nodes,
    path: error?.path,
    extensions: http ? { code, http } : { code },
  });
}
