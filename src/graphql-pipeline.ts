import type { IncomingMessage, ServerResponse } from 'node:http';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Config } from './config/config.js';
import { clientError } from './errors/error-codes.js';
import type { Logger } from './observability/logger.js';
import { runInRequestScope } from './observability/request-scope.js';
import { createAnonymousRefusal, EXPOSED_HEADERS } from './plugins/anonymous-refusal.js';
import { boundedDocumentCache } from './plugins/bounded-document-cache.js';
import { corsAllowList } from './plugins/cors-allow-list.js';
import {
  GRAPHIQL_ASSETS,
  renderGraphiQLPage,
  serveGraphiQLAsset,
  useGraphiQLContentSecurityPolicy,
} from './plugins/graphiql-page.js';
import { createErrorMask, isReported } from './plugins/mask-error.js';
import type { PersistedDocumentStore } from './plugins/persisted-document-store.js';
import type { AuthenticateFirst } from './plugins/use-authenticate-first.js';
import { useBodySizeLimit } from './plugins/use-body-size-limit.js';
import { useHttpSubscriptionSlots } from './plugins/use-http-subscription-slots.js';
import { useNoIntrospection } from './plugins/use-no-introspection.js';
import { useOperationLog } from './plugins/use-operation-log.js';
import { type PersistedOperationList, usePersistedOperationList } from './plugins/use-persisted-operation-list.js';
import { usePrivateResponses } from './plugins/use-private-responses.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { requestIdFrom, useRequestId } from './plugins/use-request-id.js';
import type { TenantPubSub } from './pubsub/tenant-pubsub.js';
import { createRequestContext, type GraphQLContext } from './schema/context.js';
import { schema } from './schema/index.js';
import type { SubscriptionSlots } from './subscriptions/subscription-slots.js';
import type { WebSocketInitialContext } from './subscriptions/websocket-server.js';
import type { ResolvedTenant } from './tenancy/resolve-tenant.js';

export const GRAPHQL_ENDPOINT = '/graphql';
export const HEALTH_ENDPOINT = '/healthz';

export interface GraphQLPipelineParts {
  config: Config;
  logger: Logger;
  /** Resolves the caller from the request's headers before its body is read. */
  authenticateFirst: AuthenticateFirst;
  /** A websocket operation's caller, resolved again from its connection's token (coded errors only). */
  resolveForOperation(websocket: WebSocketInitialContext['websocket']): Promise<ResolvedTenant>;
  persistedOperations: { list: PersistedOperationList; registered: PersistedDocumentStore };
  subscriptionSlots: SubscriptionSlots;
  pubsub: TenantPubSub;
  /**
   * How an execution reaches the database: the server binds the tenant and leases it a tenant
   * client (useTenantScope, then the heavy-query lane); the benchmark's baseline hands every
   * execution the one plain client. Everything else in the pipeline is the same for both.
   */
  execution: Plugin<GraphQLContext>[];
  /** A token GraphiQL starts with, for local development only. */
  graphiqlToken?: string;
}

/**
 * The GraphQL request pipeline — Yoga with every plugin in its order — in one place, so that the
 * server (app.ts) and the benchmark's baseline (bench/baseline-server.ts) run the same pipeline and
 * differ only in `execution`: what the benchmark calls the cost of isolation is then that and
 * nothing else (the baseline had drifted: CORS, the request scope and the production-mode plugins
 * were the server's alone, and their cost was counted as isolation's).
 */
export function createGraphQLPipeline(parts: GraphQLPipelineParts): YogaServerInstance<Record<string, never>, GraphQLContext> {
  const { config, logger, authenticateFirst, persistedOperations } = parts;
  const { limits } = config;
  return createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    // Bounded by useBodySizeLimit below, which costs nothing when Content-Length bounds the body.
    maxRequestBodySize: false,
    parserAndValidationCache: boundedDocumentCache(),
    // Browsers hide response headers from scripts unless listed: a browser app may read the request
    // id it is told to quote when reporting a problem.
    cors: corsAllowList(config.corsOrigins, EXPOSED_HEADERS),
    landingPage: false,
    // GraphiQL's code comes from this server, not from a CDN, and as same-origin files, not inline:
    // it works offline, behind a proxy that allows only this server, and under a
    // Content-Security-Policy of `default-src 'self'` (see plugins/graphiql-page.ts).
    renderGraphiQL: renderGraphiQLPage,
    healthCheckEndpoint: HEALTH_ENDPOINT,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      // Yoga logs at error level every error the mask replaced, client mistakes included, and with
      // no word of the request: the mask has already logged those, at their level, with the id.
      error: (...args) => {
        if (args.length === 1 && isReported(args[0])) return;
        logger.error(args.map(String).join(' '));
      },
    },
    maskedErrors: { maskError: createErrorMask(logger) },
    graphiql: config.graphiql && {
      title: 'tenantgraph',
      headers: JSON.stringify({
        Authorization: `Bearer ${parts.graphiqlToken ?? '<a token from: npm run cli -- token issue --user <email> --tenant <slug>>'}`,
      }),
      defaultQuery:
        '{\n  viewer {\n    user { name email }\n    tenant { slug name }\n    role\n  }\n  projects(first: 10) {\n    totalCount\n    edges { node { id name tasks(first: 5) { totalCount edges { node { title status assignee { name } } } } } }\n  }\n}\n',
    },
    plugins: [
      useRequestId(),
      usePrivateResponses(),
      ...(config.graphiql ? [useGraphiQLContentSecurityPolicy()] : []),
      authenticateFirst.plugin,
      // Read only once the caller is known (useAuthenticateFirst), and never more than this.
      useBodySizeLimit(limits.maxBodyBytes),
      ...(config.hideSchemaHints ? [blockFieldSuggestionsPlugin()] : []),
      ...(config.introspection ? [] : [useNoIntrospection()]),
      usePersistedOperationList(persistedOperations.list, {
        registered: persistedOperations.registered,
        tenantOf: (request) => authenticateFirst.resolvedOf(request)?.context.tenantId,
      }),
      useQueryLimits(limits),
      ...parts.execution,
      useHttpSubscriptionSlots(parts.subscriptionSlots),
      useOperationLog(logger),
    ],
    // The tenant was resolved once, before the body was read (HTTP), or at connection_init and
    // again for this operation (websocket); without it nothing downstream runs.
    context: async (initial) => {
      const websocket = (initial as Partial<WebSocketInitialContext>).websocket;
      const resolved = websocket ? await parts.resolveForOperation(websocket) : authenticateFirst.resolvedOf(initial.request);
      // Fails closed: a request that was not resolved before its body was read is not served.
      if (!resolved) throw clientError('UNAUTHENTICATED', { http: true });
      return createRequestContext(resolved, {
        pubsub: parts.pubsub,
        connection: websocket ? { close: websocket.close } : undefined,
        maxCost: limits.maxCost,
      });
    },
  });
}

/**
 * The HTTP entry: /readyz answered from `readiness` (ready, degraded or unavailable), an anonymous
 * POST to /graphql refused at once (anonymous-refusal.ts), /graphql and /healthz handed to Yoga
 * inside the request's log scope, GraphiQL's files (when `graphiql`) under GRAPHIQL_ASSETS, any
 * other path 404.
 */
export function createRequestListener(
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>,
  readiness: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>,
  options: { graphiql?: boolean; corsOrigins: '*' | string[]; logger: Logger },
) {
  const refuseAnonymous = createAnonymousRefusal(options);
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = request.url?.split('?', 1)[0];
    // Static files, never Yoga: no GraphQL is served here, so nothing here needs the caller.
    if (options.graphiql && path?.startsWith(GRAPHIQL_ASSETS)) {
      serveGraphiQLAsset(request, response, path);
      return;
    }
    if (path === '/readyz') {
      void readiness().then(({ ready, checks }) => {
        const status = !ready ? 'unavailable' : Object.values(checks).every(Boolean) ? 'ready' : 'degraded';
        respond(response, ready ? 200 : 503, { status, checks });
      });
      return;
    }
    // Exactly these paths: Yoga would also serve GraphQL on any path ending in /graphql or
    // /graphql/, where useAuthenticateFirst (which knows only the endpoint) would not stand first.
    if (path !== GRAPHQL_ENDPOINT && path !== HEALTH_ENDPOINT) {
      respond(response, 404, { errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    const header = request.headers['x-request-id'];
    const requestId = requestIdFrom(Array.isArray(header) ? header[0] : header);
    if (path === GRAPHQL_ENDPOINT && refuseAnonymous(request, response, requestId)) return;
    void runInRequestScope(requestId, () => yoga(request, response));
  };
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
