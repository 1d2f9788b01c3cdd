import type { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';

/**
 * Extensions that steer an HTTP response (`http`: status, headers) or mark a masked error
 * (`unexpected`). Yoga leaves them out of what it sends over HTTP and server-sent events; graphql-ws
 * would send them as they are. Leaving them out here too gives one error one shape on every
 * transport, so a client handles it the same way wherever it arrives.
 */
const TRANSPORT_EXTENSIONS = new Set(['http', 'unexpected']);

export function clientFacingError(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  const formatted: GraphQLFormattedError = 'toJSON' in error && typeof error.toJSON === 'function' ? error.toJSON() : error;
  const { extensions, ...rest } = formatted;
  const kept = Object.entries(extensions ?? {}).filter(([key]) => !TRANSPORT_EXTENSIONS.has(key));
  return kept.length > 0 ? { ...rest, extensions: Object.fromEntries(kept) } : rest;
}

export function clientFacingResult(result: ExecutionResult | FormattedExecutionResult): FormattedExecutionResult {
  const { errors, extensions, ...rest } = result;
  const kept = Object.entries(extensions ?? {}).filter(([key]) => key !== 'http');
  return {
    ...rest,
    ...(errors ? { errors: errors.map(clientFacingError) } : {}),
    ...(kept.length > 0 ? { extensions: Object.fromEntries(kept) } : {}),
  };
}
