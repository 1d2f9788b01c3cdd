import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { bearerToken } from '../src/auth/bearer-token.js';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import { TENANT_ROLE } from '../src/db/tenant-db.js';
import { listenOnLoopback } from './listen-on-loopback.js';

// PostGraphile 5 asks for Node 22; on Node 20 the one missing API it reaches for here is
// Promise.withResolvers. Provided for this benchmark process only.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<T>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      return { promise, resolve, reject };
    },
  });
}

/**
 * PostGraphile v5 over the same database, tables and RLS policies: the token is verified with the
 * same verifier, and its tenant claim (a tenant id here) becomes `app.tenant_id` with the same
 * role through pgSettings. Unlike tenantgraph it checks no membership: RLS is its only isolation.
 * PostGraphile 5 asks for Node 22; on 20 it runs here unsupported, with the polyfill above.
 */
export async function startPostGraphilePeer(deps: { databaseUrl: string; verifier: TokenVerifier; tenantClaim: string }) {
  const pgl = postgraphile({
    extends: [PostGraphileAmberPreset],
    pgServices: [makePgService({ connectionString: deps.databaseUrl, schemas: ['public'], poolConfig: { max: 20 } })],
    grafast: {
      async context(requestContext) {
        const token = bearerToken(requestContext.node?.req.headers.authorization);
        const claims = token ? await deps.verifier.verify(token) : undefined;
        const tenantId = claims?.[deps.tenantClaim];
        if (typeof tenantId !== 'string') throw new Error('no tenant');
        return { pgSettings: { role: TENANT_ROLE, 'app.tenant_id': tenantId } };
      },
    },
    // Errors unmasked and unlogged: the bench's checks read them (a refused write must be refused by
    // RLS), and the one it provokes on purpose would otherwise print a stack trace to the console.
    grafserv: { graphqlPath: '/graphql', graphiql: false, maskError: (error) => error },
  });
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  serv.addTo(server);
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    async close() {
      await listening.close();
      await pgl.release();
    },
  };
}
