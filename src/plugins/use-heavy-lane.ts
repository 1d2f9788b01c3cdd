import {
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  GraphQLError,
  getOperationAST,
  Kind,
  print,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { clientError } from '../errors/error-codes.js';
import { HeavyLaneUnavailableError } from '../heavy-queries/heavy-lane.js';
import type { HeavyAnswer, HeavyError, HeavyQuery } from '../heavy-queries/heavy-query.js';
import { increment } from '../observability/metrics.js';
import type { GraphQLContext } from '../schema/context.js';
import { costMeasured, operationCost } from '../schema/shared/operation-cost.js';
import { TurnBudgetSpentError, TurnQueueFullError, TurnTimeoutError } from '../tenancy/tenant-turns.js';

export interface HeavyLaneRoute {
  /** Runs a heavy query on the worker, in its tenant's turn. */
  run(query: HeavyQuery): Promise<HeavyAnswer>;
  /** The cost (src/schema/shared/operation-cost.ts) from which a query is heavy. */
  cost: number;
}

/**
 * Sends queries whose cost reaches the threshold to the heavy lane (src/heavy-queries/heavy-lane.ts)
 * instead of executing them here; everything else — lighter queries, mutations, subscriptions, and
 * queries over the cost limit, which the complexity plugin refuses as usual — runs on this thread.
 * Must come after useTenantScope: it replaces that plugin's execution for the queries it takes.
 */
export function useHeavyLane(route: HeavyLaneRoute): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'query') return;
      const context = args.contextValue as GraphQLContext;
      const fragments = (args.document as DocumentNode).definitions.filter(
        (definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION,
      );
      const complexity = operationCost(operation, fragments, {
        schema: args.schema,
        ctx: context,
        variables: (args.variableValues ?? {}) as Record<string, unknown>,
      });
      costMeasured(context, complexity);
      if (complexity < route.cost || complexity > context.maxCost) return;
      setExecuteFn(async (executeArgs) => {
        increment('heavy_query');
        try {
          const answer = await route.run({
            tenant: context.tenant,
            profile: context.profile,
            tokenExpiresAt: context.tokenExpiresAt,
            // The text it was parsed from (so error locations match), else the document printed back.
            document: executeArgs.document.loc?.source.body ?? print(executeArgs.document),
            variables: (executeArgs.variableValues ?? undefined) as Record<string, unknown> | undefined,
            operationName: executeArgs.operationName ?? undefined,
            maxCost: context.maxCost,
            measuredCost: complexity,
          });
          return context.connection ? parsedResultOf(answer) : resultOf(answer);
        } catch (error) {
          increment('heavy_query_refused');
          // A tenant with as many heavy reads waiting as it may have: it should slow down.
          if (error instanceof TurnQueueFullError) throw clientError('RATE_LIMITED', { http: true });
          // A tenant that has used its share of the lane lately: told when it may come back.
          if (error instanceof TurnBudgetSpentError) {
            throw clientError('RATE_LIMITED', { http: true, retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) });
          }
          if (error instanceof TurnTimeoutError || error instanceof HeavyLaneUnavailableError) {
            throw clientError('UNAVAILABLE', { http: true });
          }
          throw error;
        }
      });
    },
  };
}

/**
 * The worker's answer as Yoga's HTTP result: its errors (already masked) decide the status, and its
 * body, serialized on the worker, is written as is — this thread never parses or re-serializes the rows.
 */
function resultOf(answer: HeavyAnswer): ExecutionResult & { stringify(): string } {
  return { ...(answer.errors ? { errors: answer.errors.map(errorOf) } : {}), stringify: () => answer.body };
}

/** Over a websocket the result is serialized by graphql-ws, which knows no serializer of ours: parsed here. */
function parsedResultOf(answer: HeavyAnswer): ExecutionResult {
  const { data } = JSON.parse(answer.body) as { data?: ExecutionResult['data'] };
  return { ...(data !== undefined ? { data } : {}), ...(answer.errors ? { errors: answer.errors.map(errorOf) } : {}) };
}

function errorOf(error: HeavyError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, extensions: error.extensions });
  // Where in the document the worker found it: there is no document here to compute it from.
  if (error.locations) Object.assign(rebuilt, { locations: error.locations });
  return rebuilt;
}
