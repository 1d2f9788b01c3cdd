import { increment } from '../observability/metrics.js';
import type { TenantBinding } from './tenant-binding.js';
import { currentTenant } from './tenant-context.js';
import { type TenantScope, TenantScopeError } from './tenant-scope.js';

export interface TenantClientOptions {
  scope: TenantScope;
  /** Whom the client serves now; its connection reads the same binding (tenant-bound-adapter.ts). */
  binding: TenantBinding;
}

/**
 * Thrown when a client is used by an execution it is not bound to — another tenant's, or a request
 * that has already ended and released it: a programming error.
 */
export class TenantClientMismatchError extends Error {
  override name = 'TenantClientMismatchError';
  constructor(what: string) {
    super(`${what} ran on a client not bound to its execution`);
  }
}

const RAW_METHODS = ['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe'] as const;
type RawMethod = (typeof RAW_METHODS)[number];

/**
 * What a tenant's client offers: the model delegates, raw SQL (row-level security applies) and
 * interactive transactions (the batch form is refused: see tenantClient).
 */
export type TenantClient<Client> = {
  [Key in keyof Client as Key extends `$${string}` ? (Key extends RawMethod ? Key : never) : Key]: Client[Key];
} & {
  $transaction<Result>(
    work: (tx: Omit<TenantClient<Client>, '$transaction'>) => Promise<Result>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<Result>;
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

/**
 * Reads by unique key, run as Prisma's first-row reads with the same (scoped) arguments. Prisma sends
 * every `findUnique` through a loader that computes a batch key from the arguments and selection and
 * waits a tick for others to compact into one statement; with the tenant predicate in the `where`
 * it cannot compact them, and runs a tick's batch as an explicit transaction, one statement after
 * another. A leased client serves one execution, so the loader only cost: about 3 points of the
 * point read's isolation ratio (HTTP A/B in one process, docs/benchmarks.md). The unique key still
 * selects at most one row, and a missing row still fails `…OrThrow` with Prisma's P2025.
 */
const RUN_AS: Partial<Record<(typeof OPERATIONS)[number], (typeof OPERATIONS)[number]>> = {
  findUnique: 'findFirst',
  findUniqueOrThrow: 'findFirstOrThrow',
};

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
 * The query half of a tenant client (the connection half sets the tenant for row-level security on
 * every statement): every operation checks that the calling execution is the one the client is
 * bound to — and throws before any SQL when it is not, or when no tenant is bound — and has its
 * arguments scoped by TenantScope, nested relation loads included. A refused operation answers
 * with a rejected promise, as a failed query would. Fluent relation accessors, whose arguments
 * would reach the database unscoped, are refused.
 *
 * Each operation starts at once and counts as in flight until it settles, so a client is never
 * unbound (and bound to another execution) under a statement of the one before; Prisma's lazy
 * promises would otherwise run whenever they are first awaited. For the same reason a batch
 * `$transaction([...])`, whose operations are started by the batch, is refused: use the
 * interactive form.
 *
 * A plain object of wrapped methods rather than a Prisma query extension: the extension machinery
 * cost about as much CPU per operation as the scoping itself, on every statement of every request.
 * Whatever it does not list (`$extends`, `$connect`, `$on`, …) the tenant client does not have.
 */
export function tenantClient<Client extends object>(client: Client, options: TenantClientOptions): TenantClient<Client> {
  const { scope, binding } = options;
  const source = client as unknown as Record<string, unknown>;

  /** The tenant of the calling execution, once it is known to be the one the client is bound to. */
  function assertBound(what: string): string {
    const context = currentTenant(what);
    if (!binding.admits(context)) {
      // Another tenant's work is a programming error to alarm on; the tenant's own work arriving
      // after its execution ended (a resolver still running when a sibling's error ended it) is not.
      increment(
        binding.tenantId === context.tenantId || binding.tenantId === undefined
          ? 'tenant_client_after_release'
          : 'tenant_client_mismatch',
      );
      throw new TenantClientMismatchError(what);
    }
    return context.tenantId;
  }

  const wrapped: Record<string, unknown> = {};
  for (const model of scope.models()) {
    const key = delegateKey(model);
    const delegate = source[key] as Record<string, Callable>;
    const relations = new Set(scope.relationNames(model));
    const operations: Record<string, Callable> = {};
    for (const operation of OPERATIONS) {
      const run = delegate[RUN_AS[operation] ?? operation] as Callable;
      const what = `${model}.${operation}`;
      operations[operation] = (args?: unknown) => {
        let scoped: Record<string, unknown>;
        try {
          const tenantId = assertBound(what);
          scoped = scope.scopeArgs(model, operation, args as Record<string, unknown> | undefined, tenantId);
        } catch (error) {
          return Promise.reject(error);
        }
        increment('tenant_statement');
        const pending = run(scoped) as Promise<unknown>;
        binding.track(pending);
        return FLUENT.has(operation) ? withoutFluent(pending, relations, what) : pending;
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
      const pending = run(...args) as Promise<unknown>;
      binding.track(pending);
      return pending;
    };
  }
  const transaction = (source.$transaction as Callable).bind(client);
  wrapped.$transaction = (work: unknown, transactionOptions?: unknown) => {
    try {
      assertBound('$transaction');
    } catch (error) {
      return Promise.reject(error);
    }
    if (typeof work !== 'function') {
      return Promise.reject(
        new TenantScopeError(
          'a batch $transaction([...]) is not supported by the tenant client: use $transaction(async (tx) => …)',
        ),
      );
    }
    // The interactive transaction gets a tenant client over Prisma's transaction client, bound alike.
    const pending = transaction((inner: object) => work(tenantClient(inner, options)), transactionOptions) as Promise<unknown>;
    binding.track(pending);
    return pending;
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

/** The property a Prisma client offers a model's operations under (`Task` → `task`). */
export function delegateKey(model: string): string {
  return `${model.charAt(0).toLowerCase()}${model.slice(1)}`;
}
