import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
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
 * core). The answer — status, body, headers, CORS, the counter — is the one useAuthenticateFirst
 * gives any caller it refuses (test/integration/anonymous-refusal.test.ts holds them equal); the
 * log is not a line per request (see throttledLog). Everything else, a token that fails included,
 * goes on to Yoga.
 */
export function createAnonymousRefusal(options: { corsOrigins: '*' | string[]; logger: Logger }) {
  const cors = corsResponseHeaders(options.corsOrigins, EXPOSED_HEADERS);
  const log = throttledLog(options.logger);
  /** Answers and returns true when `request` is an anonymous POST; false, untouched, otherwise. */
  return function refuseAnonymous(request: IncomingMessage, response: ServerResponse, requestId: string): boolean {
    if (request.method !== 'POST' || request.headers.authorization !== undefined) return false;
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    increment('tenant_resolution_failed');
    log(requestId);
    const { status, headers, body } = refusalAnswer('UNAUTHENTICATED');
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

/** At most one line per LOG_EVERY_MS for anonymous refusals. */
const LOG_EVERY_MS = 1_000;

/**
 * Logs an anonymous refusal as any refused caller's is — then, for the rest of the second, only
 * counts them, and says how many in one line at its end. A flood of anonymous documents wrote a
 * warn line per document (2,300 a second, half a megabyte, in a measured flood; a fifth of the
 * server's CPU per document); what those lines held, the same reason each time, fits in one.
 */
function throttledLog(logger: Logger): (requestId: string) => void {
  let quietUntil = 0;
  let unlogged = 0;
  let summaryDue = false;
  return (requestId) => {
    const now = Date.now();
    if (now >= quietUntil) {
      logger.warn({ requestId, status: 401, reason: 'no bearer token' }, 'caller rejected by tenant resolution');
      quietUntil = now + LOG_EVERY_MS;
      return;
    }
    unlogged++;
    if (summaryDue) return;
    summaryDue = true;
    setTimeout(() => {
      logger.warn(
        { status: 401, reason: 'no bearer token', count: unlogged, withinMs: LOG_EVERY_MS },
        'callers rejected by tenant resolution, not logged one by one',
      );
      unlogged = 0;
      summaryDue = false;
    }, quietUntil - now).unref();
  };
}
