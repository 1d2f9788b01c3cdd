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
import { ErrorCode, type FieldProblem, genericMessage } from '../errors/error-codes.js';
import { originOf } from '../errors/error-origin.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { currentRequestId } from '../observability/request-scope.js';
import { peekTenant } from '../tenancy/tenant-context.js';

const CLIENT_CODES = new Set(Object.keys(ErrorCode));

/** Errors the mask has logged itself (at their level, with the request id): Yoga need not again. */
const reported = new WeakSet<object>();

/** Whether the mask already logged `error`; Yoga's logger skips those (app.ts). */
export function isReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && reported.has(error);
}

/**
 * Yoga's error mask: our own coded errors and GraphQL's own (syntax, validation) pass; database and
 * programming errors become a generic coded error, with the detail in the log only — never SQL, a
 * stack or another tenant's identifier in a response. A client's mistake is logged at info (warn
 * when only the database caught it), never at error: error level is for the server's own faults.
 */
export function createErrorMask(logger: Logger) {
  const mask = maskWith(logger);
  return (error: unknown): Error => {
    const masked = mask(error);
    if (masked !== error && typeof error === 'object' && error !== null) reported.add(error);
    return masked;
  };
}

function maskWith(logger: Logger) {
  return (error: unknown): Error => {
    if (!isGraphQLError(error)) {
      logger.error({ requestId: peekTenant()?.requestId ?? currentRequestId(), err: error }, 'unexpected error');
      return coded(undefined, 'INTERNAL_SERVER_ERROR');
    }
    const original = error.originalError;
    // The mask runs after the execution's tenant context has ended: the request id comes from the
    // error itself when it was raised in a resolver (see error-origin.ts), else from the request
    // scope (an error raised before execution, such as a persisted-query hash that is not its
    // text's). An explicit undefined here would hide the logger's own request id from the line.
    const origin = originOf(original) ?? originOf(error) ?? peekTenant();
    const requestId = origin?.requestId ?? currentRequestId();
    // A variable that does not coerce to its type (a bad DateTime, an Int out of range) or a
    // required one left out is the client's input: GraphQL's message names the variable and the
    // expected type, nothing more.
    const variable = !error.path && error.extensions?.code === undefined ? variableProblem(error.message) : undefined;
    if (variable) {
      logger.info({ requestId, fields: [variable] }, 'bad user input');
      return coded(error, 'BAD_USER_INPUT', error.message, undefined, [variable]);
    }
    if (!original || isGraphQLError(original)) {
      const code = (isGraphQLError(original) ? original : error).extensions?.code;
      if (!original || (typeof code === 'string' && CLIENT_CODES.has(code))) {
        if (code === 'BAD_USER_INPUT') {
          const fields = (isGraphQLError(original) ? original : error).extensions?.fields;
          logger.info({ requestId, path: error.path, fields }, 'bad user input');
        }
        return withoutParserDetail(error, requestId, logger);
      }
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
    if (isRecordNotFound(original)) {
      logger.debug({ requestId, path: error.path }, 'record not found');
      return coded(error, 'NOT_FOUND');
    }
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

/**
 * Yoga's own refusals of a request (a body that is not JSON, say) carry the parser's error in
 * `extensions.originalError` — its class and message, which echoes the body back. The code and the
 * message stay; the parser's words go to the log. Yoga read that field to answer such a request
 * 400 rather than the 200 an `application/json` client gets for a GraphQL error (its `http.spec`
 * flag): without it, the status holds for every client once the flag is gone.
 */
function withoutParserDetail(error: GraphQLError, requestId: string | undefined, logger: Logger): GraphQLError {
  const { originalError, http, ...extensions } = error.extensions ?? {};
  if (originalError === undefined) return error;
  logger.info({ requestId, code: extensions.code, reason: originalError }, 'bad request');
  const { spec: _spec, ...httpInit } = (http ?? {}) as { spec?: boolean; status?: number };
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    extensions: { ...extensions, http: { status: 400, ...httpInit } },
  });
}

// By name, not instanceof: graphql ships as both CommonJS and ESM, and a plugin may load the other copy.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError' && 'extensions' in error);
}

/**
 * The variable a coercion error is about, as the `fields` of BAD_USER_INPUT: `$input.title` for a
 * field of an input object, `$first` for a whole variable. graphql-js words these errors as
 * `Variable "$x" got invalid value … [at "x.path"]; reason`, `… of required type "T" was not
 * provided.` and `… of non-null type "T" must not be null.`
 */
function variableProblem(message: string): FieldProblem | undefined {
  const name = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /.exec(message)?.[1];
  if (!name) return undefined;
  const invalid = /^Variable "\$[^"]+" got invalid value [\s\S]*?(?: at "([^"]+)")?; ([\s\S]*)$/.exec(message);
  if (invalid) {
    const reason = invalid[2] ?? 'is not a valid value of its type';
    // A field missing from, or unknown to, an input object is named inside it.
    const inner = /^Field "([_A-Za-z][_0-9A-Za-z]*)" (of required type .* was not provided|is not defined by type .*)\.$/.exec(
      reason,
    );
    return { field: `$${invalid[1] ?? name}${inner ? `.${inner[1]}` : ''}`, message: reason };
  }
  if (/ was not provided\.$/.test(message)) return { field: `$${name}`, message: 'must be given' };
  if (/ must not be null\.$/.test(message)) return { field: `$${name}`, message: 'must not be null' };
  return { field: `$${name}`, message: 'is not a valid value of its type' };
}

function coded(
  error: GraphQLError | undefined,
  code: ErrorCode,
  message = genericMessage(code),
  http?: { status: number; headers?: Record<string, string> },
  fields?: FieldProblem[],
): GraphQLError {
  return createGraphQLError(message ?? 'Unexpected error', {
    nodes: error?.nodes,
    path: error?.path,
    extensions: { code, ...(http ? { http } : {}), ...(fields ? { fields } : {}) },
  });
}
