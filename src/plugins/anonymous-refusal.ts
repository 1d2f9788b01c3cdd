import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { reportResolutionFailure } from '../tenancy/resolution-failure.js';
import { NO_BEARER_TOKEN, TenantRejection } from '../tenancy/resolve-tenant.js';
import { corsResponseHeaders } from './cors-allow-list.js';
import { refusalAnswer, sendsBody } from './use-authenticate-first.js';
import { privateResponseHeaders } from './use-private-responses.js';

/** Headers a browser app may read on any answer of /graphql (the id to quote when reporting a problem). */
export const EXPOSED_HEADERS = ['x-request-id'];

/**
 * Refuses a POST to /graphql that carries no Authorization header in the HTTP listener itself,
 * before Yoga: an anonymous client streaming large documents is the cheapest attack there is, and
 * through Yoga each of its requests cost the server 2–3× what a bare refusal does (its Request and
 * Response objects, the plugin chain; measured with bench/flood.ts against one process, pinned to a
 * core). The answer — status, body, headers, CORS, the counter — is the one useAuthenticateFirst
 * gives any caller it refuses (test/integration/anonymous-refusal.test.ts holds them equal); the
 * log is not a line per request (see throttledReport), and past a few a second the answer waits (see
 * anonymousPacing). Everything else, a token that fails included, goes on to Yoga.
 */
export function createAnonymousRefusal(options: { corsOrigins: '*' | string[]; logger: Logger }) {
  const cors = corsResponseHeaders(options.corsOrigins, EXPOSED_HEADERS);
  const report = throttledReport(options.logger);
  const pace = anonymousPacing();
  /** Answers and returns true when `request` is an anonymous POST; false, untouched, otherwise. */
  return function refuseAnonymous(request: IncomingMessage, response: ServerResponse, requestId: string): boolean {
    if (request.method !== 'POST' || request.headers.authorization !== undefined) return false;
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const { status, headers, body } = refusalAnswer(report(requestId));
    pace(response, () => {
      // In the order Yoga's refusal has them (a test compares the two, order included).
      const corsHeaders = cors(header);
      response.writeHead(status, {
        ...headers,
        'content-length': Buffer.byteLength(body),
        // The body is left unread: closing is cheaper than reading it to keep the connection.
        ...(sendsBody(header) ? { connection: 'close' } : {}),
        ...corsHeaders,
        'x-request-id': requestId,
        ...privateResponseHeaders(corsHeaders.vary),
      });
      response.end(body);
    });
    return true;
  };
}

/** Anonymous refusals answered at once in any one second, on one instance; past them, each waits. */
export const PROMPT_ANONYMOUS_PER_SECOND = 20;
/** How long an anonymous refusal past those waits. */
export const ANONYMOUS_WAIT_MS = 100;
/** Refusals waiting at once, at most: each holds a socket and its receive buffer; past it, answered at once. */
const MAX_WAITING = 256;

/**
 * Answers the first PROMPT_ANONYMOUS_PER_SECOND anonymous refusals of each second at once and the
 * rest ANONYMOUS_WAIT_MS later. A client that sends its next document when the last is refused — a
 * script on a few connections, the common flood — is then held to a few documents a second per
 * connection: answering it faster had only made it send faster (bench: 2.5× the documents when the
 * refusal moved out of Yoga, for the same share of the server's core). No one with a token waits;
 * nor does an anonymous caller while anonymous calls are rare. While waiting, the unread body
 * fills the socket's buffers and the sender is stopped by TCP; a client that leaves is forgotten.
 */
function anonymousPacing(): (response: ServerResponse, answer: () => void) => void {
  let second = 0;
  let prompt = 0;
  let waiting = 0;
  return (response, answer) => {
    const now = Math.floor(Date.now() / 1_000);
    if (now !== second) {
      second = now;
      prompt = 0;
    }
    if (prompt < PROMPT_ANONYMOUS_PER_SECOND || waiting >= MAX_WAITING) {
      prompt++;
      answer();
      return;
    }
    waiting++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      waiting--;
      return true;
    };
    const timer = setTimeout(() => {
      if (settle()) answer();
    }, ANONYMOUS_WAIT_MS);
    response.once('close', () => {
      if (settle()) clearTimeout(timer);
    });
  };
}

/** At most one line per LOG_EVERY_MS for anonymous refusals. */
const LOG_EVERY_MS = 1_000;

/** Every anonymous refusal's reason: made once, not a new error (and stack) per request. */
const ANONYMOUS = new TenantRejection(401, NO_BEARER_TOKEN);

/**
 * Counts every anonymous refusal; reports the first of each second as any refused caller's is
 * (reportResolutionFailure: the same counter and line), and the rest of that second in one line
 * with their count at its end. A flood of anonymous documents wrote a warn line per document
 * (2,300 a second, half a megabyte, in a measured flood; a fifth of the server's CPU per
 * document); what those lines held, the same reason each time, fits in one.
 */
function throttledReport(logger: Logger): (requestId: string) => TenantRejection['code'] {
  let quietUntil = 0;
  let unlogged = 0;
  let summaryDue = false;
  return (requestId) => {
    const now = Date.now();
    if (now >= quietUntil) {
      reportResolutionFailure(ANONYMOUS, logger, { requestId });
      quietUntil = now + LOG_EVERY_MS;
      return ANONYMOUS.code;
    }
    increment('tenant_resolution_failed');
    unlogged++;
    if (!summaryDue) {
      summaryDue = true;
      setTimeout(() => {
        logger.warn(
          { status: ANONYMOUS.status, reason: ANONYMOUS.reason, count: unlogged, withinMs: LOG_EVERY_MS },
          'callers rejected by tenant resolution, not logged one by one',
        );
        unlogged = 0;
        summaryDue = false;
      }, quietUntil - now).unref();
    }
    return ANONYMOUS.code;
  };
}
