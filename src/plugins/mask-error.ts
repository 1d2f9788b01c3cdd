import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import {
  databaseCode,
  isConstraintViolation,
  isDatabaseUnavailable,
  isDataException,
  isRecordNotFound,
  isRlsViolation,
} from '../errors/database-errors.js';
import { ErrorCode, genericMessage } from '../errors/error-codes.js';
import { originOf } from '../errors/error-origin.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { peekTenant } from '../tenancy/tenant-context.js';

const CLIENT_CODES = new Set(Object.keys(ErrorCode));

/**
 * Yoga's error mask: our own coded errors and GraphQL's own (syntax, validation) pass; database and
 * programming errors become a generic coded error, with the detail in the log only — never SQL, a
 * stack or another tenant's identifier in a response. A client's mistake is logged at info (warn
 * when only the database caught it), never at error: error level is for the server's own faults.
 */
export function createErrorMask(logger: Logger) {
  return (error: unknown): Error => {
    if (!isGraphQLError(error)) return coded(undefined, 'INTERNAL_SERVER_ERROR');
    const original = error.originalError;
    // The mask runs after the execution's tenant context has ended: the request id comes from the
    // error itself when it was raised in a resolver (see error-origin.ts).
    const origin = originOf(original) ?? originOf(error) ?? peekTenant();
    const requestId = origin?.requestId;
    if (!original || isGraphQLError(original)) {
      const code = (isGraphQLError(original) ? original : error).extensions?.code;
      if (!original || (typeof code === 'string' && CLIENT_CODES.has(code))) {
        if (code === 'BAD_USER_INPUT') {
          const fields = (isGraphQLError(original) ? original : error).extensions?.fields;
          logger.info({ requestId, path: error.path, fields }, 'bad user input');
        }
        return error;
      }
    }
    // A variable that does not coerce to its type (a bad DateTime, an Int out of range) is the
    // client's input: GraphQL's message names the variable and the expected type, nothing more.
    if (!error.path && error.message.startsWith('Variable "$')) {
      logger.info({ requestId, reason: error.message }, 'bad user input');
      return coded(error, 'BAD_USER_INPUT', error.message);
    }
    // Pothos refuses malformed cursors, page sizes and global ids with its own validation error
    // (the argument guard refuses the ones we know of first, naming the argument).
    if (original?.name === 'PothosValidationError') {
      logger.info({ requestId, path: error.path, reason: original.message }, 'bad user input');
      return coded(error, 'BAD_USER_INPUT');
    }
    if (isRlsViolation(original)) {
      increment('rls_violation');
      logger.warn(
        { securityEvent: 'rls_violation', requestId, tenantId: origin?.tenantId, userId: origin?.userId, path: error.path },
        'row-level security refused a statement',
      );
      return coded(error, 'FORBIDDEN');
    }
    if (isDatabaseUnavailable(original)) {
      // PostgreSQL away (restart, failover, terminated backend): retryable, and a 503 so that
      // load balancers and clients treat it as such.
      increment('database_unavailable');
      logger.warn({ requestId, err: original, path: error.path }, 'database unavailable');
      return coded(error, 'UNAVAILABLE', undefined, { status: 503, headers: { 'retry-after': '1' } });
    }
    if (isRecordNotFound(original)) return coded(error, 'NOT_FOUND');
    if (isConstraintViolation(original)) {
      logger.info({ requestId, path: error.path, code: databaseCode(original) }, 'bad user input');
      return coded(error, 'BAD_USER_INPUT');
    }
    // The backstop: a value the database could not take reached it. Still the client's input, but
    // validation should have refused it first — hence warn, with the code to find the gap by.
    if (isDataException(original)) {
      logger.warn({ requestId, path: error.path, code: databaseCode(original) }, 'bad user input reached the database');
      return coded(error, 'BAD_USER_INPUT');
    }
    logger.error({ requestId, tenantId: origin?.tenantId, err: original, path: error.path }, 'unexpected error in a resolver');
    return coded(error, 'INTERNAL_SERVER_ERROR');
  };
}

// By name, not instanceof: graphql ships as both CommonJS and ESM, and a plugin may load the other copy.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError' && 'extensions' in error);
}

function coded(
  error: GraphQLError | undefined,
  code: ErrorCode,
  message = genericMessage(code),
  http?: { status: number; headers?: Record<string, string> },
): GraphQLError {
  return createGraphQLError(message ?? 'Unexpected error', {
    nodes: error?.nodes,
    path: error?.path,
    extensions: http ? { code, http } : { code },
  });
}
