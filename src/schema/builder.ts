import SchemaBuilder from '@pothos/core';
import ComplexityPlugin, { ComplexityErrorKind } from '@pothos/plugin-complexity';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { isRecordNotFound } from '../errors/database-errors.js';
import { forbidden } from '../errors/error-codes.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { isUuid } from '../tenancy/resolve-tenant.js';
import type { GraphQLContext } from './context.js';
import { costLimitError, costLimitOf, fieldCost, PAGE_SIZE } from './shared/operation-cost.js';
import { canManageProjects, canWrite } from './shared/roles.js';

/** The schema builder: plugins and scalars only; types live in one file each beside this one. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
  AuthScopes: {
    /** MEMBER and above: may write tasks and comments. */
    member: boolean;
    /** ADMIN and OWNER: may manage projects. */
    admin: boolean;
  };
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, ComplexityPlugin, PrismaPlugin, RelayPlugin],
  // An operation's cost is checked before its first root field resolves, so before any SQL.
  complexity: {
    fieldComplexity: fieldCost,
    limit: costLimitOf,
    complexityError: (kind, result) =>
      kind === ComplexityErrorKind.Complexity
        ? costLimitError(result.complexity, result.maxComplexity ?? 0)
        : new Error(`unexpected complexity limit: ${kind}`),
  },
  scopeAuth: {
    // Roles come from the membership the registry resolved, never from the token.
    authScopes: (context) => ({
      member: canWrite(context.tenant.role),
      admin: canManageProjects(context.tenant.role),
    }),
    unauthorizedError: () => forbidden(),
  },
  prisma: {
    // The tenant client leased to this execution alone (src/plugins/use-tenant-scope.ts).
    client: (context) => context.db as unknown as PrismaClient,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    // A page is at most 100 rows, whatever `first` asks for; 20 when it asks nothing.
    maxConnectionSize: PAGE_SIZE.max,
    defaultConnectionSize: PAGE_SIZE.default,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    // Every connection also offers `nodes`: the page's rows without an edge object around each —
    // what most clients read (and PostGraphile, GitHub's API offer), a smaller answer, and less
    // work per row for the server. `edges { cursor node }` stays for Relay clients.
    nodesOnConnection: true,
    // node(id) answers null for an id nobody can see — another tenant's row or no row at all — the
    // same way; Pothos would otherwise surface Prisma's "record not found".
    nodeQueryOptions: {
      resolve: async (_root, { id }, _context, _info, resolveNode) => {
        if (!isUuid(String(id.id))) return null;
        try {
          return await resolveNode(id);
        } catch (error) {
          if (isRecordNotFound(error)) return null;
          throw error;
        }
      },
    },
  },
});

builder.queryType();
builder.mutationType();
builder.subscriptionType();

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time, always with a time zone.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
      throw new TypeError('DateTime must be an ISO-8601 string with a time zone');
    }
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime is not a valid date');
    // PostgreSQL refuses year 0 and years past its range; refuse them here, naming the variable.
    if (date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999)
      throw new TypeError('DateTime must be within the years 0001–9999');
    return date;
  },
});
