import { formatPrismaCursor, parsePrismaCursor } from '@pothos/plugin-prisma';
import { getDatamodel } from '../../generated/pothos-types.js';
import { canonicalUuid, isUuid } from '../../tenancy/resolve-tenant.js';

/**
 * What every connection of this schema pages by: the row's id, a UUID — its key, or for a row keyed
 * otherwise (a membership: tenant and user) a unique id of its own. Pothos writes such a cursor
 * as base64 of `GPC:S:<uuid>`; the argument guard (argument-guard.ts) accepts nothing else.
 */
export const CURSOR = 'id' as const;

/**
 * Whether `cursor` is exactly what a connection paging by CURSOR hands out. Pothos decodes any
 * tagged chunk it knows (`GPC:N:-5`, `GPC:D:…`, `GPC:J:{…}`) and passes the value to Prisma, where
 * a number for a string column or a string that is no UUID is an internal error, not the client's.
 */
export function isCursor(cursor: string): boolean {
  let value: unknown;
  try {
    value = parsePrismaCursor(cursor);
  } catch {
    return false;
  }
  return (
    typeof value === 'string' &&
    isUuid(value) &&
    canonicalUuid(value) === value &&
    formatPrismaCursor({ [CURSOR]: value }, CURSOR) === cursor
  );
}

/** Refuses, when the schema is built, a connection over a model whose CURSOR is not a unique string id. */
export function assertPagesByUuid(model: string): void {
  const field = getDatamodel().datamodel.models[model]?.fields.find((candidate) => candidate.name === CURSOR);
  if (!(field?.isId || field?.isUnique) || field.type !== 'String') {
    throw new Error(`connection over ${model}: its cursor ${CURSOR} is not a UUID id; teach isCursor its shape`);
  }
}
