import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../observability/logger.js';
import type { GraphQLContext } from '../schema/context.js';

/** One log line per operation: request id, tenant, user, operation name, duration, error count. */
export function useOperationLog(logger: Logger): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const { tenant } = args.contextValue as GraphQLContext;
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result && Array.isArray(result.errors) ? result.errors.length : 0;
          logger.info(
            {
              requestId: tenant.requestId,
              tenantId: tenant.tenantId,
              userId: tenant.userId,
              operationName: getOperationAST(args.document, args.operationName)?.name?.value ?? null,
              durationMs: Math.round((performance.now() - started) * 100) / 100,
              errors,
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
