import { isUuid } from '../tenancy/resolve-tenant.js';

/** What mutations announce. Only ids travel: subscribers load rows again in their own scope. */
export type DomainEvent =
  | { type: 'task'; tenantId: string; projectId: string; taskId: string; kind: 'CREATED' | 'UPDATED' | 'DELETED' }
  | { type: 'comment'; tenantId: string; taskId: string; commentId: string }
  | { type: 'project'; tenantId: string; projectId: string; kind: 'CREATED' | 'UPDATED' | 'ARCHIVED' };

const KINDS: Record<DomainEvent['type'], readonly string[] | null> = {
  task: ['CREATED', 'UPDATED', 'DELETED'],
  project: ['CREATED', 'UPDATED', 'ARCHIVED'],
  comment: null,
};

/**
 * An event as received: untrusted until its shape and ids check out (it may have crossed a network
 * or been written by another version of the app). Returns undefined for anything malformed.
 */
export function parseDomainEvent(value: unknown): DomainEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Record<string, unknown>;
  const type = event.type as DomainEvent['type'];
  if (!(type in KINDS) || typeof event.tenantId !== 'string' || !isUuid(event.tenantId)) return undefined;
  const kinds = KINDS[type];
  if (kinds && !kinds.includes(event.kind as string)) return undefined;
  const ids = type === 'task' ? ['projectId', 'taskId'] : type === 'comment' ? ['taskId', 'commentId'] : ['projectId'];
  if (!ids.every((key) => typeof event[key] === 'string' && isUuid(event[key] as string))) return undefined;
  return event as DomainEvent;
}
