import { complexityFromQuery } from '@pothos/plugin-complexity';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { increment } from '../../observability/metrics.js';
import type { GraphQLContext } from '../context.js';

/** Rows a connection page holds when `first`/`last` ask for nothing, and at most (the builder's). */
export const PAGE_SIZE = { default: 20, max: 100 } as const;

/** What an unpaginated list is assumed to hold. */
const LIST_SIZE = 50;

const isList = (type: GraphQLOutputType): boolean => isListType(isNonNullType(type) ? type.ofType : type);

/**
 * The cost of one field, for the complexity plugin: each field costs 1, and what is selected
 * below a field is multiplied by how many rows it may return — a connection by the page it asks
 * for (as the builder clamps it), any other list by LIST_SIZE. A connection's `edges` (or `nodes`) are
 * the page itself, not a further multiple. It estimates rows from the shape and the arguments alone, before
 * anything runs, so a request cannot spend what it is not allowed to.
 */
export function fieldCost(
  args: Record<string, unknown>,
  _context: unknown,
  field: { name: string; type: GraphQLOutputType; args: readonly { name: string }[] },
) {
  if (field.args.some((arg) => arg.name === 'first')) {
    const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : PAGE_SIZE.default;
    return { field: 1, multiplier: Math.min(Math.max(asked, 0), PAGE_SIZE.max) };
  }
  if (isList(field.type)) {
    // A connection's `edges` and its `nodes` (the same rows without their edges) are the page the
    // connection field already multiplied by; Relay's root `nodes(ids:)` would take arguments.
    const page =
      (field.name === 'edges' && getNamedType(field.type).name.endsWith('Edge')) ||
      (field.name === 'nodes' && field.args.length === 0);
    return { field: 1, multiplier: page ? 1 : LIST_SIZE };
  }
  return 1;
}

/**
 * The cost of one operation of a document, by the complexity plugin's rules, before it runs. The
 * plugin's `complexityFromQuery` measures a document's *first* operation, so the operation is measured
 * as a document of its own (with the fragments it may spread): a cheap first operation must not
 * stand for the costly one `operationName` picks.
 */
export function operationCost(
  operation: OperationDefinitionNode,
  fragments: readonly FragmentDefinitionNode[],
  options: { schema: GraphQLSchema; ctx: GraphQLContext; variables: Record<string, unknown> },
): number {
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
  return complexityFromQuery(document, options).complexity;
}

/**
 * Records an operation's cost measured before execution (the heavy lane measures it to pick a lane).
 * On the context the execution copies (src/schema/context.ts, contextForExecution), so the measure
 * reaches the complexity plugin, which is then spared a second walk of the document.
 */
export function costMeasured(context: GraphQLContext, cost: number): void {
  context.measuredCost = cost;
}

/** The complexity plugin's limit for an execution: none left to check when it was measured within it. */
export function costLimitOf(context: GraphQLContext): { complexity?: number } {
  const measured = context.measuredCost;
  return measured !== undefined && measured <= context.maxCost ? {} : { complexity: context.maxCost };
}

/** The refusal: the operation's cost and the limit, so a client knows how much to ask for less. */
export function costLimitError(cost: number, limit: number): GraphQLError {
  increment('query_too_costly');
  return new GraphQLError(`Operation cost ${cost} exceeds the limit of ${limit}; ask for smaller pages or fewer fields`, {
    extensions: { code: 'COST_LIMIT_EXCEEDED', cost, limit },
  });
}

/**
 * The complexity plugin checks an operation's cost as its root fields resolve — for a subscription,
 * at each event, after the subscription was accepted and took a slot. This wrapper checks a
 * subscription's cost when it is set up, with the same rules, so an over-cost one is refused at once.
 */
export function limitSubscriptionCost(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe as GraphQLFieldResolver<unknown, GraphQLContext> | undefined;
    if (!subscribe) continue;
    field.subscribe = (source, args, context: GraphQLContext, info) => {
      const complexity = operationCost(info.operation, Object.values(info.fragments), {
        schema: info.schema,
        ctx: context,
        variables: info.variableValues,
      });
      if (complexity > context.maxCost) throw costLimitError(complexity, context.maxCost);
      return subscribe(source, args, context, info);
    };
  }
  return schema;
}
