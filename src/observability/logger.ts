import pino, { type Logger } from 'pino';
import { peekTenant } from '../tenancy/tenant-context.js';
import { currentRequestId } from './request-scope.js';

export type { Logger };

/**
 * JSON logs. Every line written while a tenant is bound carries its request id, tenant and user,
 * read from the one tenant context rather than passed around; a line written for a request before
 * or after that (Yoga's own, a refused caller's) carries the request id of its request scope.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tenantgraph' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const tenant = peekTenant();
        if (tenant) return { requestId: tenant.requestId, tenantId: tenant.tenantId, userId: tenant.userId };
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      redact: { paths: ['req.headers.authorization', 'authorization', 'token'], censor: '[redacted]' },
    },
    destination,
  );
}
