import type { TenantDb } from '../db/tenant-db.js';
import { createLoaders, type Loaders } from '../loaders/create-loaders.js';
import type { TenantPubSub } from '../pubsub/tenant-pubsub.js';
import type { ResolvedTenant } from '../tenancy/resolve-tenant.js';
import type { TenantContext } from '../tenancy/tenant-context.js';
import type { MembershipRecord, TenantRecord } from '../tenancy/tenant-registry.js';

/** A websocket connection, as far as resolvers and the subscription pipeline need it. */
export interface ConnectionHandle {
  /** Closes the whole connection (4401: token no longer valid, 4403: access revoked). */
  close(code: number, reason: string): void;
}

/**
 * What every resolver receives. Built once per request (or per subscription message) by the
 * context factory after the tenant is resolved; resolvers never take a tenant argument and never
 * see the raw request.
 */
export interface GraphQLContext {
  /** The resolved caller: tenant, user, role, request id. Also bound to AsyncLocalStorage. */
  tenant: TenantContext;
  /** When the caller's token expires (ms since epoch); long-lived subscriptions re-check it. */
  tokenExpiresAt: number | undefined;
  /**
   * The caller's tenant and user as the registry holds them (cached, at most its TTL old), so
   * `viewer` needs no query. Absent fields are read from the database instead.
   */
  profile?: { tenant: TenantRecord; user: MembershipRecord['user'] };
  /**
   * The tenant-scoped Prisma client (scoped predicates + RLS transaction on every statement), leased
   * to this execution alone (src/plugins/use-tenant-scope.ts); outside an execution it refuses all.
   */
  db: TenantDb;
  /** Per-execution (per-message for subscriptions), tenant-keyed DataLoaders over `db`. */
  loaders: Loaders;
  /** Events; topics always carry the tenant. */
  pubsub: TenantPubSub;
  /** Set on websocket operations only. */
  connection?: ConnectionHandle;
  /** The most this caller's operation may cost (src/schema/shared/operation-cost.ts). */
  maxCost: number;
  /**
   * The operation's cost, when it was measured before execution (src/plugins/use-heavy-lane.ts):
   * carried into the execution's context, so that the complexity plugin need not walk it again.
   */
  measuredCost?: number;
}

/** The context of one request (or websocket operation) once the context factory resolved its tenant. */
export function createRequestContext(
  resolved: ResolvedTenant,
  services: { pubsub: TenantPubSub; connection?: ConnectionHandle; maxCost: number },
): GraphQLContext {
  return {
    tenant: resolved.context,
    tokenExpiresAt: resolved.expiresAt,
    profile: { tenant: resolved.tenant, user: resolved.membership.user },
    db: NOT_LEASED,
    loaders: NOT_LEASED_LOADERS,
    pubsub: services.pubsub,
    maxCost: services.maxCost,
    ...(services.connection ? { connection: services.connection } : {}),
  };
}

/** The context one execution runs with: `db` leased to it, and DataLoaders of its own over it. */
export function contextForExecution(context: GraphQLContext, db: TenantDb): GraphQLContext {
  return { ...context, db, loaders: createLoaders(db, context.tenant.tenantId) };
}

/**
 * A stand-in for a service this execution must not use (`db` and `loaders` until a client is leased;
 * `pubsub` on the heavy-query worker): anything asked of it throws, naming it.
 */
export function refusing<T>(what: string): T {
  return new Proxy({} as object, {
    get(_target, property) {
      // Not a database operation: what inspecting, serialising or awaiting an object asks of it.
      if (typeof property === 'symbol' || property === 'then' || property === 'toJSON') return undefined;
      throw new Error(`context.${what}.${String(property)} used outside an execution`);
    },
  }) as T;
}
const NOT_LEASED = refusing<TenantDb>('db');
const NOT_LEASED_LOADERS = refusing<Loaders>('loaders');
