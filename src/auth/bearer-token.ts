/**
 * The token from an `Authorization: Bearer …` value. Only that header (or, on websockets, the same
 * value in connectionParams) is read: a token in a URL ends up in logs, history and referrers.
 */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(authorization.trim());
  return match?.[1];
}
