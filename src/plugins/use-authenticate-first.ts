import type { Plugin } from 'graphql-yoga';
import { ErrorCode, genericMessage } from '../errors/error-codes.js';
import type { Logger } from '../observability/logger.js';
import { reportResolutionFailure } from '../tenancy/resolution-failure.js';
import type { ResolvedTenant, TenantResolver } from '../tenancy/resolve-tenant.js';
import { requestIdOf } from './use-request-id.js';

export interface AuthenticateFirstOptions {
  resolveTenant: TenantResolver;
  logger: Logger;
  /** Only requests to this path are GraphQL requests; health checks and 404s pass untouched. */
  graphqlEndpoint: string;
}

export interface AuthenticateFirst {
  plugin: Plugin;
  /** The tenant resolved for `request` before its body was read; undefined if it never was. */
  resolvedOf(request: Request): ResolvedTenant | undefined;
}

/**
 * Resolves the caller — token verified, tenant active, membership — from the request's headers,
 * before its body is read, parsed, validated or cached: an anonymous client or a bad token costs a
 * header check and a signature check, never a parse or a cache entry, and learns nothing of the
 * schema. The context factory then takes the tenant resolved here instead of resolving it again.
 *
 * Runs after Yoga's own request hooks (CORS preflight, the GraphiQL page, health), which read no body.
 */
export function useAuthenticateFirst(options: AuthenticateFirstOptions): AuthenticateFirst {
  const resolved = new WeakMap<Request, ResolvedTenant>();
  const plugin: Plugin = {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== options.graphqlEndpoint) return;
      const requestId = requestIdOf(request);
      try {
        resolved.set(
          request,
          await options.resolveTenant({
            authorization: request.headers.get('authorization'),
            tenantHeader: request.headers.get('x-tenant-id'),
            requestId,
          }),
        );
      } catch (error) {
        const response = refusal(fetchAPI, error, requestId, options.logger);
        // A body the refused client is still sending would otherwise be read to its end (up to
        // MAX_BODY_BYTES, or forever if chunked) just to keep the connection: close it instead.
        if (sendsBody((name) => request.headers.get(name))) response.headers.set('connection', 'close');
        endResponse(response);
      }
    },
  };
  return { plugin, resolvedOf: (request) => resolved.get(request) };
}

function refusal(fetchAPI: { Response: typeof Response }, error: unknown, requestId: string, logger: Logger): Response {
  const { status, headers, body } = refusalAnswer(reportResolutionFailure(error, logger, { requestId }));
  return new fetchAPI.Response(body, { status, headers });
}

/** What a caller who is not let in is answered: the code's status and generic message, nothing more. */
export function refusalAnswer(code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'UNAVAILABLE') {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (code === 'UNAVAILABLE') headers['retry-after'] = '1';
  if (code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
  const body = JSON.stringify({ errors: [{ message: genericMessage(code), extensions: { code } }] });
  return { status: ErrorCode[code], headers, body };
}

/** Whether a refused request is still sending a body, which is then left unread and the connection closed. */
export function sendsBody(header: (name: string) => string | null | undefined): boolean {
  return header('transfer-encoding') != null || Number(header('content-length') ?? 0) > 0;
}
