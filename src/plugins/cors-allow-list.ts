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
