import { applyRegistryChange } from '../db/registry-notifications.js';
import type { Logger } from '../observability/logger.js';
import { increment } from '../observability/metrics.js';
import type { TenantRegistry } from '../tenancy/tenant-registry.js';
import { REGISTRY_CHANNEL, type RedisConnections } from './redis.js';

/**
 * Applies registry changes announced on Redis (by any instance or the CLI) to `registry`. A message
 * that is not a well-formed change is dropped and counted. When the channel comes back after an
 * outage, changes announced meanwhile were missed: the whole cache is dropped rather than trusted
 * for up to REGISTRY_TTL_MS more.
 */
export async function applyRegistryChangesFromRedis(
  redis: RedisConnections,
  registry: TenantRegistry,
  logger: Logger,
): Promise<void> {
  redis.onResume(() => registry.invalidateAll());
  await redis.listen(REGISTRY_CHANNEL, (message) => {
    if (applyRegistryChange(registry, message)) return;
    increment('redis_message_dropped');
    logger.warn({ channel: REGISTRY_CHANNEL, bytes: message.length }, 'malformed registry change on redis dropped');
  });
}
