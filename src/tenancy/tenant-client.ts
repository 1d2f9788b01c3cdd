import { Prisma } from '@prisma/client/extension';
import { increment } from '../observability/metrics.js';
import { currentTenant } from './tenant-context.js';
import type { TenantScope } from './tenant-scope.js';

export interface TenancyExtensionOptions {
  scope: TenantScope;
  /** The one tenant this client serves; its connection is bound to it (tenant-bound-adapter.ts). */
  tenantId: string;
}

/** Thrown when a tenant's client is used for work bound to another tenant: a programming error. */
export class TenantClientMismatchError extends Error {
  override name = 'TenantClientMismatchError';
  constructor(what: string) {
    super(`${what} ran on another tenant's client`);
  }
}

const RAW_OPERATIONS = new Set(['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe']);

/**
 * The query half of a tenant's Prisma client (the connection half sets the tenant for row-level
 * security on every statement): every operation checks that the execution is bound to this
 * client's tenant — and throws before any SQL when none is — and has its arguments scoped by
 * TenantScope, nested relation loads included.
 */
export function tenancyExtension(options: TenancyExtensionOptions) {
  return Prisma.defineExtension((client) =>
    client.$extends({
      name: 'tenancy',
      query: {
        async $allOperations({ model, operation, args, query }) {
          const what = model ? `${model}.${operation}` : operation;
          const tenant = currentTenant(what);
          if (tenant.tenantId !== options.tenantId) {
            increment('tenant_client_mismatch');
            throw new TenantClientMismatchError(what);
          }
          let scopedArgs: unknown = args;
          if (model) scopedArgs = options.scope.scopeArgs(model, operation, args as Record<string, unknown>, tenant.tenantId);
          else if (!RAW_OPERATIONS.has(operation)) {
            throw new Error(`${operation} is not available on the tenant client`);
          }
          increment('tenant_statement');
          return query(scopedArgs as typeof args);
        },
      },
    }),
  );
}
