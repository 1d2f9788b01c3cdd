import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { reportResolutionFailure } from '../tenancy/resolution-failure.js';
import { TenantRejection } from '../tenancy/resolve-tenant.js';
import { corsResponseHeaders } from './cors-allow-list.js';
import { refusalAnswer, sendsBody } from './use-authenticate-first.js';
import { PRIVATE_RESPONSE_HEADERS } from './use-private-responses.js';

/** Headers a browser app may read on any answer of /graphql (the id to quote when reporting a problem). */
export const EXPOSED_HEADERS = ['x-request-id'];

/**
 * Refuses a POST to /graphql that carries no Authorization header in the HTTP listener itself,
 * before Yoga: an anonymous client streaming large documents is the cheapest attack there is, and
 * through Yoga each of its requests cost the server 2–3× what a bare refusal does (its Request and
 * Response objects, the plugin chain; measured with bench/flood.ts against one process, pinned to a
 * core). The answer — status, body, headers, CORS, the log line and counter — is the one
 * useAuthenticateFirst gives any caller it refuses (test/integration/anonymous-refusal.test.ts
 * holds them equal). Everything else, a token that fails included, goes on to Yoga.
 */
export function createAnonymousRefusal(options: { corsOrigins: '*' | string[]; logger: Logger }) {
  const cors = corsResponseHeaders(options.corsOrigins, EXPOSED_HEADERS);
  /** Answers and returns true when `request` is an anonymous POST; false, untouched, otherwise. */
  return function refuseAnonymous(request: IncomingMessage, response: ServerResponse, requestId: string): boolean {
    if (request.method !== 'POST' || request.headers.authorization !== undefined) return false;
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const rejection = new TenantRejection(401, 'no bearer token');
    const { status, headers, body } = refusalAnswer(reportResolutionFailure(rejection, options.logger, { requestId }));
    response.writeHead(status, {
      ...cors(header),
      ...headers,
      'content-length': Buffer.byteLength(body),
      // The body is left unread: closing is cheaper than reading it to keep the connection.
      ...(sendsBody(header) ? { connection: 'close' } : {}),
      'x-request-id': requestId,
      ...PRIVATE_RESPONSE_HEADERS,
    });
    response.end(body);
    return true;
  };
}
