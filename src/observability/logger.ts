import pino, { type Logger } from 'pino';
import { peekTenant } from '../tenancy/tenant-context.js';

export type { Logger };

/**
 * JSON logs. Every line written while a tenant is bound carries its request id, tenant and user,
 * read from the one tenant context rather than passed around.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tenantgraph' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const tenant = peekTenant();
        return tenant ? { requestId: tenant.requestId, tenantId: tenant.tenantId, userId: tenant.userId } : {};
      },
      redact: { paths: ['req.headers.authorization', 'authorization', 'token'], censor: '[redacted]' },
    },
    destination,
  );
}
