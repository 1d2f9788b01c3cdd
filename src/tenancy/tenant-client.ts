import { increment } from '../observability/metrics.js';
import { currentTenant } from './tenant-context.js';
import { type TenantScope, TenantScopeError } from './tenant-scope.js';

export interface TenantClientOptions {
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

const RAW_METHODS = ['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe'] as const;
type RawMethod = (typeof RAW_METHODS)[number];

/** What a tenant's client offers: the model delegates, raw SQL (row-level security applies) and transactions. */
export type TenantClient<Client> = {
  [Key in keyof Client as Key extends `$${string}` ? (Key extends RawMethod | '$transaction' ? Key : never) : Key]: Client[Key];
};

/** The operations a model delegate offers through the tenant client; TenantScope scopes each one. */
const OPERATIONS = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
] as const;

/** Operations whose result offers Prisma's fluent relation accessors (`findUnique(…).comments()`). */
const FLUENT = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'create',
  'update',
  'upsert',
  'delete',
]);

type Callable = (...args: unknown[]) => unknown;

/**
 * The query half of a tenant's Prisma client (the connection half sets the tenant for row-level
 * security on every statement): every operation checks that the execution is bound to this
 * client's tenant — and throws before any SQL when none is — and has its arguments scoped by
 * TenantScope, nested relation loads included. A refused operation answers with a rejected promise,
 * as a failed query would. Fluent relation accessors, whose arguments would reach the database
 * unscoped, are refused.
 *
 * A plain object of wrapped methods rather than a Prisma query extension: the extension machinery
 * cost about as much CPU per operation as the scoping itself, on every statement of every request.
 * Whatever it does not list (`$extends`, `$connect`, `$on`, …) the tenant client does not have.
 */
export function tenantClient<Client extends object>(client: Client, options: TenantClientOptions): TenantClient<Client> {
  const { scope, tenantId } = options;
  const source = client as unknown as Record<string, unknown>;

  function assertBound(what: string): void {
    if (currentTenant(what).tenantId !== tenantId) {
      increment('tenant_client_mismatch');
      throw new TenantClientMismatchError(what);
    }
  }

  const wrapped: Record<string, unknown> = {};
  for (const model of scope.models()) {
    const key = `${model.charAt(0).toLowerCase()}${model.slice(1)}`;
    const delegate = source[key] as Record<string, Callable>;
    const relations = new Set(scope.relationNames(model));
    const operations: Record<string, Callable> = {};
    for (const operation of OPERATIONS) {
      const run = delegate[operation] as Callable;
      const what = `${model}.${operation}`;
      operations[operation] = (args?: unknown) => {
        let scoped: Record<string, unknown>;
        try {
          assertBound(what);
          scoped = scope.scopeArgs(model, operation, args as Record<string, unknown> | undefined, tenantId);
        } catch (error) {
          return Promise.reject(error);
        }
        increment('tenant_statement');
        const pending = run(scoped);
        return FLUENT.has(operation) ? withoutFluent(pending as object, relations, what) : pending;
      };
    }
    wrapped[key] = Object.freeze(operations);
  }
  for (const method of RAW_METHODS) {
    const run = (source[method] as Callable).bind(client);
    wrapped[method] = (...args: unknown[]) => {
      try {
        assertBound(method);
      } catch (error) {
        return Promise.reject(error);
      }
      increment('tenant_statement');
      return run(...args);
    };
  }
  const transaction = (source.$transaction as Callable).bind(client);
  wrapped.$transaction = (work: unknown, transactionOptions?: unknown) => {
    try {
      assertBound('$transaction');
    } catch (error) {
      return Promise.reject(error);
    }
    // A batch holds operations already scoped by this client; an interactive transaction gets a
    // tenant client over Prisma's transaction client.
    if (typeof work !== 'function') return transaction(work, transactionOptions);
    return transaction((inner: object) => work(tenantClient(inner, options)), transactionOptions);
  };
  return Object.freeze(wrapped) as TenantClient<Client>;
}

/** Prisma's pending result with its fluent relation accessors refused (their arguments go unscoped). */
function withoutFluent(pending: object, relations: ReadonlySet<string>, what: string): object {
  return new Proxy(pending, {
    get(target, property, receiver) {
      if (typeof property === 'string' && relations.has(property)) {
        throw new TenantScopeError(`${what}(…).${property}(): fluent relation access is not supported by the tenant client`);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
