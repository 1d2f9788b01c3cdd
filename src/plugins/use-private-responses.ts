import type { Plugin } from 'graphql-yoga';

/**
 * Every answer of /graphql is private to the caller who asked. A GET of a persisted query's hash has
 * the same URL in every tenant, so a shared cache (a CDN, a corporate proxy) keying on the URL alone
 * would hand one tenant's data to another: responses say they are not to be stored, and vary with
 * the headers that pick the caller.
 */
export function usePrivateResponses(): Plugin {
  return {
    onResponse({ response }) {
      for (const [name, value] of Object.entries(privateResponseHeaders(response.headers.get('vary')))) {
        response.headers.set(name, value);
      }
    },
  };
}

/** Set last on every answer of /graphql; `vary` keeps what CORS put there (Origin). */
export function privateResponseHeaders(vary: string | null | undefined): { 'cache-control': string; vary: string } {
  const names = [...(vary ? vary.split(',').map((name) => name.trim()) : []), 'Authorization', 'X-Tenant-ID'];
  const unique = names.filter((name, i) => names.findIndex((other) => other.toLowerCase() === name.toLowerCase()) === i);
  return { 'cache-control': 'private, no-store', vary: unique.join(', ') };
}
