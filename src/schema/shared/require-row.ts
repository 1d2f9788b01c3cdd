import type { TenantDb } from '../../db/tenant-db.js';
import { notFound } from '../../errors/error-codes.js';

// Each lookup goes through the tenant client: another tenant's row is simply not found, which is
// the same answer as a row that never existed.

export async function requireTask(db: TenantDb, id: string): Promise<{ id: string; projectId: string }> {
  const task = await db.task.findUnique({ where: { id }, select: { id: true, projectId: true } });
  if (!task) throw notFound();
  return task;
}
