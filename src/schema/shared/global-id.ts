import { decodeGlobalID } from '@pothos/plugin-relay';
import { badInput } from '../../errors/error-codes.js';
import { isUuid } from '../../tenancy/resolve-tenant.js';

/**
 * The database id inside a Relay global id of `typename`. A malformed id, or one of another type,
 * is bad input; a well-formed id of a row the caller cannot see is "not found" further down.
 */
export function parseGlobalId(globalId: string, typename: string, field: string): string {
  let decoded: { typename: string; id: string } | undefined;
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    decoded = undefined;
  }
  if (!decoded || decoded.typename !== typename || !isUuid(decoded.id)) {
    throw badInput([{ field, message: `must be the id of a ${typename}` }]);
  }
  return decoded.id;
}
