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
      for (const [name, value] of Object.entries(PRIVATE_RESPONSE_HEADERS)) response.headers.set(name, value);
    },
  };
}

/** Set last on every answer of /graphql: they replace what CORS put in `vary`. */
export const PRIVATE_RESPONSE_HEADERS = { 'cache-control': 'private, no-store', vary: 'Authorization, X-Tenant-ID' } as const;
