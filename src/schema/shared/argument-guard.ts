import { decodeGlobalID } from '@pothos/plugin-relay';
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLFieldResolver,
  GraphQLIncludeDirective,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionNode,
} from 'graphql';
import { badInput, type FieldProblem } from '../../errors/error-codes.js';
import type { GraphQLContext } from '../context.js';
import { assertPagesByUuid, isCursor } from './cursor.js';
import { PAGE_SIZE } from './operation-cost.js';

type AnyField = GraphQLField<unknown, unknown>;
type Variables = GraphQLResolveInfo['variableValues'];

/** A field of the operation that takes arguments, and the nodes whose @skip/@include decide if it runs. */
interface Site {
  /** The root field it is under (or is). */
  root: FieldNode;
  field: AnyField;
  node: FieldNode;
  conditions: readonly SelectionNode[];
  connection: boolean;
}

const NUL = 'must not contain NUL characters';

/**
 * Checks the arguments of every field an operation selects, nested ones included, before its first
 * resolver runs — so before any SQL, and before a mutation changes anything. It refuses, with
 * BAD_USER_INPUT naming each argument, what would otherwise reach the database as an internal error:
 * a cursor that is not one a connection hands out, a negative page size or a combination Pothos
 * rejects, a node id that does not decode, and a NUL byte in any string (PostgreSQL text cannot
 * hold one).
 *
 * It wraps the root fields' resolvers, not a Yoga plugin, because a nested connection's cursor is
 * decoded while its parent plans its query: only the root field runs before all of them.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  const connections = connectionFields(schema);
  // Per operation: a parsed document is cached and reused, so its sites are found once.
  const sites = new WeakMap<object, Site[]>();

  const guard = (info: GraphQLResolveInfo): FieldProblem[] => {
    let found = sites.get(info.operation);
    if (!found) {
      found = [];
      collect(schema, info.parentType, info.operation.selectionSet.selections, info.fragments, [], new Set(), connections, found);
      sites.set(info.operation, found);
    }
    // A mutation runs only if the whole operation is sound: a later field's bad argument must not
    // leave an earlier field's write behind. Queries and subscriptions answer field by field.
    const mine = info.operation.operation === 'mutation' ? found : found.filter((site) => info.fieldNodes.includes(site.root));
    return mine.length === 0 ? [] : check(mine, info.variableValues);
  };

  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const resolve = field.resolve as GraphQLFieldResolver<unknown, GraphQLContext> | undefined;
      if (!resolve) continue;
      field.resolve = (source, args, context: GraphQLContext, info) => {
        const problems = guard(info);
        if (problems.length > 0) throw badInput(problems);
        return resolve(source, args, context, info);
      };
    }
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe;
    if (!subscribe) continue;
    field.subscribe = (source, args, context, info) => {
      const problems = guard(info);
      if (problems.length > 0) throw badInput(problems);
      return subscribe(source, args, context, info);
    };
  }
  return schema;
}

/** Connection fields of Prisma models (those with `after`), each checked to page by a UUID id. */
function connectionFields(schema: GraphQLSchema): Set<AnyField> {
  const found = new Set<AnyField>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.some((arg) => arg.name === 'after')) continue;
      const connection = getNamedType(field.type);
      const edges = isObjectType(connection) ? connection.getFields().edges : undefined;
      const edge = edges && getNamedType(edges.type);
      const node = edge && isObjectType(edge) ? getNamedType(edge.getFields().node?.type) : undefined;
      const model = (node?.extensions as { pothosPrismaModel?: string } | undefined)?.pothosPrismaModel;
      if (!model) throw new Error(`${type.name}.${field.name} takes a cursor the argument guard cannot check`);
      assertPagesByUuid(model);
      found.add(field as AnyField);
    }
  }
  return found;
}

/**
 * The fields with arguments under `selections`, as graphql-js would collect them: each fragment
 * once per selection set (so nested spreads cannot multiply the work), conditions kept for later.
 */
function collect(
  schema: GraphQLSchema,
  parent: GraphQLCompositeType,
  selections: readonly SelectionNode[],
  fragments: Record<string, FragmentDefinitionNode>,
  conditions: readonly SelectionNode[],
  visited: Set<string>,
  connections: Set<AnyField>,
  out: Site[],
  root?: FieldNode,
): void {
  for (const selection of selections) {
    const here = selection.directives?.length ? [...conditions, selection] : conditions;
    if (selection.kind === Kind.FIELD) {
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
      if (!field) continue; // __typename and introspection: nothing of ours
      const under = root ?? selection;
      if (selection.arguments?.length) {
        const connection = connections.has(field as AnyField);
        out.push({ root: under, field: field as AnyField, node: selection, conditions: here, connection });
      }
      const type = getNamedType(field.type);
      if (selection.selectionSet && isCompositeType(type)) {
        collect(schema, type, selection.selectionSet.selections, fragments, here, new Set(), connections, out, under);
      }
    } else {
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments[selection.name.value] : selection;
      if (!fragment) continue;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        if (visited.has(selection.name.value)) continue;
        visited.add(selection.name.value);
      }
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
      if (!condition || !isCompositeType(condition)) continue;
      collect(schema, condition, fragment.selectionSet.selections, fragments, here, visited, connections, out, root);
    }
  }
}

function check(sites: Site[], variables: Variables): FieldProblem[] {
  // One problem per argument, the first found: a NUL byte makes a cursor or an id undecodable too.
  const problems = new Map<string, FieldProblem>();
  const add = (field: string, message: string) => problems.has(field) || problems.set(field, { field, message });
  for (const site of sites) {
    if (!site.conditions.every((node) => runs(node, variables))) continue;
    const args = getArgumentValues(site.field, site.node, variables);
    for (const [name, value] of Object.entries(args)) findNul(value, name, add);
    if (site.connection) checkPage(args, add);
    for (const arg of site.field.args) {
      const value = args[arg.name];
      if (typeof value === 'string' && arg.extensions?.isRelayGlobalID && !isGlobalId(value)) {
        add(arg.name, 'must be an id this API returned');
      }
    }
  }
  return [...problems.values()];
}

/** Decodes as Pothos decodes node(id:); whose row it names is for the resolver to find out. */
function isGlobalId(value: string): boolean {
  try {
    decodeGlobalID(value);
    return true;
  } catch {
    return false;
  }
}

function runs(node: SelectionNode, variables: Variables): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

function findNul(value: unknown, path: string, add: (field: string, message: string) => void): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) add(path, NUL);
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) findNul(item, `${path}.${index}`, add);
  } else if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) findNul(item, `${path}.${key}`, add);
  }
}

/**
 * What Pothos would refuse or pass on to Prisma unchecked. A page above the maximum is refused too,
 * rather than quietly cut: a client asking for 100000 rows learns the limit from the answer, as
 * GitHub's and Shopify's APIs tell theirs.
 */
function checkPage(args: Record<string, unknown>, add: (field: string, message: string) => void): void {
  const { first, last, after, before } = args as {
    first?: number | null;
    last?: number | null;
    after?: unknown;
    before?: unknown;
  };
  if (first != null && first < 0) add('first', 'must not be negative');
  if (last != null && last < 0) add('last', 'must not be negative');
  if (first != null && first > PAGE_SIZE.max) add('first', `must be at most ${PAGE_SIZE.max}`);
  if (last != null && last > PAGE_SIZE.max) add('last', `must be at most ${PAGE_SIZE.max}`);
  for (const [name, cursor] of [
    ['after', after],
    ['before', before],
  ] as const) {
    if (cursor != null && (typeof cursor !== 'string' || !isCursor(cursor)))
      add(name, 'must be a cursor this connection returned');
  }
  if (after != null && before != null) add('before', 'cannot be combined with after');
  if (before != null && first != null) add('first', 'cannot be combined with before');
  if (after != null && last != null) add('last', 'cannot be combined with after');
}
