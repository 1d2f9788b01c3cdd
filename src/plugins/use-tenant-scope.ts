import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context.js';
import { runInTenant } from '../tenancy/tenant-context.js';

/**
 * Binds the tenant the context factory resolved to AsyncLocalStorage for the whole execution, so
 * the tenant client, loaders and logs read it from one place. Nothing is bound outside execution.
 */
export function useTenantScope(): Plugin<GraphQLContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const tenant = (args.contextValue as Partial<GraphQLContext>).tenant;
      if (!tenant) throw new Error('execution started without a resolved tenant');
      setExecuteFn((executeArgs) => runInTenant(tenant, () => executeFn(executeArgs)));
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const tenant = (args.contextValue as Partial<GraphQLContext>).tenant;
      if (!tenant) throw new Error('subscription started without a resolved tenant');
      setSubscribeFn((subscribeArgs) => runInTenant(tenant, () => subscribeFn(subscribeArgs)));
    },
  };
}
