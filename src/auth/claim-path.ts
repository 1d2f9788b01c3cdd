/**
 * Where in a token a claim sits. Two spellings, told apart by the first character, so that no name
 * can mean two places:
 * - a claim name, taken literally as a top-level key: `tid`, `org_id`, or a namespaced claim such
 *   as `https://tenantgraph.example/tenant` (dots, colons and slashes are part of the name);
 * - a JSON Pointer (RFC 6901), starting with `/`, into nested objects: `/org/id`,
 *   `/https:~1~1tenantgraph.example~1claims/tenant` (`~1` stands for `/` in a key, `~0` for `~`).
 */
export type ClaimPath = readonly string[];

export class ClaimPathError extends Error {
  override name = 'ClaimPathError';
}

export function parseClaimPath(spec: string): ClaimPath {
  if (spec.length === 0 || spec.length > 256) throw new ClaimPathError('a claim path is 1–256 characters');
  if ([...spec].some((char) => char < ' ' || char === '\u007f'))
    throw new ClaimPathError('a claim path has no control characters');
  if (!spec.startsWith('/')) return [spec];
  const keys = spec
    .slice(1)
    .split('/')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (keys.some((key) => key.length === 0)) throw new ClaimPathError(`${spec}: a JSON Pointer names no empty key`);
  if (/~(?![01])/.test(spec)) throw new ClaimPathError(`${spec}: in a JSON Pointer, ~ is written ~0 and / in a key ~1`);
  return keys;
}

/** The value at `path` in `claims`, or undefined; only own properties of plain objects are followed. */
export function readClaim(claims: Record<string, unknown>, path: ClaimPath): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Claims holding `value` at `path`: what a token naming it carries (the development signer's tokens). */
export function claimsAt(path: ClaimPath, value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}
