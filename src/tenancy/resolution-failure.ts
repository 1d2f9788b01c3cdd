import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import { TenantRejection } from './resolve-tenant.js';

/**
 * What a caller that could not be resolved may be told, whatever the transport: the rejection's
 * code (its reason goes to the log only, so "no such tenant" and "not a member" look alike), or
 * UNAVAILABLE when the registry could not be read (PostgreSQL away: try again). Logged and counted
 * here, once.
 */
export function reportResolutionFailure(
  error: unknown,
  logger: Logger,
  context: Record<string, unknown>,
): 'UNAUTHENTICATED' | 'FORBIDDEN' | 'UNAVAILABLE' {
  if (error instanceof TenantRejection) {
    increment('tenant_resolution_failed');
    logger.warn({ ...context, status: error.status, reason: error.reason }, 'caller rejected by tenant resolution');
    return error.code;
  }
  increment('database_unavailable');
  logger.warn({ ...context, err: error }, 'caller not resolved: registry unavailable');
  return 'UNAVAILABLE';
}
