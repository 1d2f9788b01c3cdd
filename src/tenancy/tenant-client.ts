import { Prisma } from '@prisma/client/extension';
import { increment } from '../observability/metrics.js';
import { currentTenant } from './tenant-context.js';
import type { TenantScope } from './tenant-scope.js';

export interface TenancyExtensionOptions {
  scope: TenantScope;
  /** A database role without BYPASSRLS that every tenant statement runs as. */
  role: string;
  /** The setting the RLS policies read. */
  setting?: string;
}

/** The two base-client methods the wrapper needs; the generated client has both. */
interface RawCapableClient {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $transaction<T extends readonly unknown[]>(operations: [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T>;
}

const RAW_OPERATIONS = new Set(['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe']);

/**
 * The tenant-scoped Prisma client: every operation reads the tenant bound to this execution (and
 * throws before any SQL without one), has its arguments scoped by TenantScope, and runs in its own
 * transaction that first switches to the tenant role and sets the tenant for row-level security:
 *
 *   BEGIN; SELECT set_config('app.tenant_id', $1, true), set_config('role', $2, true); <query>; COMMIT
 *
 * Both settings are transaction-local, so a pooled connection (PgBouncer in transaction mode, or a
 * superuser connection string) never carries one tenant's settings into another's statement.
 */
export function tenancyExtension(options: TenancyExtensionOptions) {
  const setting = options.setting ?? 'app.tenant_id';
  return Prisma.defineExtension((client) => {
    const base = client as unknown as RawCapableClient;
    const enterTenant = (tenantId: string) =>
      base.$executeRaw`SELECT set_config(${setting}, ${tenantId}, true), set_config('role', ${options.role}, true)`;

    return client.$extends({
      name: 'tenancy',
      query: {
        async $allOperations({ model, operation, args, query }) {
          const what = model ? `${model}.${operation}` : operation;
          const tenant = currentTenant(what);
          let scopedArgs: unknown = args;
          if (model) scopedArgs = options.scope.scopeArgs(model, operation, args as Record<string, unknown>, tenant.tenantId);
          else if (!RAW_OPERATIONS.has(operation)) {
            throw new Error(`${operation} is not available on the tenant client`);
          }
          increment('tenant_statement');
          const [, result] = await base.$transaction([enterTenant(tenant.tenantId), query(scopedArgs as typeof args)]);
          return result;
        },
      },
    });
  });
}
