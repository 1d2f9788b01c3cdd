import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { currentRequestId } from '../observability/request-scope.js';

const requestIds = new WeakMap<Request, string>();
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is sane, otherwise a new id. */
export function requestIdFrom(supplied: string | null | undefined): string {
  return supplied && ACCEPTABLE_ID.test(supplied) ? supplied : randomUUID();
}

/** The request's id: the one its request scope was opened with (app.ts), else read from its headers. */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    id = currentRequestId() ?? requestIdFrom(request.headers.get('x-request-id'));
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
