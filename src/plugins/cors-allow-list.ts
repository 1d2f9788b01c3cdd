import type { CORSOptions } from 'graphql-yoga';

/**
 * Yoga's CORS for the allowed origins. `*` answers any origin (development). A list answers only
 * an origin on it; any other gets no CORS headers at all, so its browser scripts cannot read a
 * response. (Yoga's own list option would answer every origin when the list is empty and name the
 * one origin to everyone when it has one, so the choice is made here, per request.)
 */
export function corsAllowList(origins: '*' | string[], exposedHeaders: string[]): (request: Request) => CORSOptions | false {
  if (origins === '*') return () => ({ exposedHeaders });
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get('origin');
    // Tokens travel in the Authorization header, never in cookies: no credentials are allowed.
    return origin !== null && allowed.has(origin) ? { origin: [origin], exposedHeaders, credentials: false } : false;
  };
}

/**
 * The headers Yoga's CORS puts on an answer (not a preflight) for these origins, for an answer given
 * before Yoga (anonymous-refusal.ts). It follows @whatwg-node/server's getCORSHeadersByRequestAndOptions
 * for the two kinds of options corsAllowList makes; test/integration/anonymous-refusal.test.ts holds
 * the two answers equal, so a change of Yoga's is seen there.
 */
export function corsResponseHeaders(
  origins: '*' | string[],
  exposedHeaders: string[],
): (header: (name: string) => string | undefined) => Record<string, string> {
  const optionsFor = corsAllowList(origins, exposedHeaders);
  return (header) => {
    const origin = header('origin');
    if (origin === undefined) return {};
    const options = optionsFor({ headers: { get: (name: string) => header(name) ?? null } } as Request);
    if (options === false) return {};
    // Either any origin (none named: the request's is echoed) or exactly the request's.
    const headers: Record<string, string> = { 'access-control-allow-origin': origin };
    if (options.origin === undefined) headers.vary = 'Origin';
    const method = header('access-control-request-method');
    if (method) headers['access-control-allow-methods'] = method;
    const requested = header('access-control-request-headers');
    if (requested) {
      headers['access-control-allow-headers'] = requested;
      headers.vary = headers.vary ? `${headers.vary}, Access-Control-Request-Headers` : 'Access-Control-Request-Headers';
    }
    if (options.credentials === undefined) headers['access-control-allow-credentials'] = 'true';
    if (options.exposedHeaders) headers['access-control-expose-headers'] = options.exposedHeaders.join(', ');
    return headers;
  };
}
