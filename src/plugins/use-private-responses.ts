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
      response.headers.set('cache-control', 'private, no-store');
      response.headers.set('vary', 'Authorization, X-Tenant-ID');
    },
  };
}
