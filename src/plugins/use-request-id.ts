import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const requestIds = new WeakMap<Request, string>();
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's `X-Request-ID` when it is sane, otherwise a new one. */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const supplied = request.headers.get('x-request-id');
    id = supplied && ACCEPTABLE_ID.test(supplied) ? supplied : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** Accepts or generates `X-Request-ID` and returns it on every response, errors included. */
export function useRequestId(): Plugin {
  return {
    onRequest({ request }) {
      requestIdOf(request);
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
