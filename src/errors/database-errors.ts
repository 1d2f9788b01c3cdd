/** Reads what the database said out of a Prisma error, whichever driver adapter produced it. */
function driverCause(error: unknown): { originalCode?: string; kind?: string } | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: unknown } } } | null)?.meta;
  const cause = meta?.driverAdapterError?.cause;
  return typeof cause === 'object' && cause !== null ? (cause as { originalCode?: string; kind?: string }) : undefined;
}

function prismaCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}

/** SQLSTATE 42501: row-level security (or a missing grant) refused a statement. */
export function isRlsViolation(error: unknown): boolean {
  return driverCause(error)?.originalCode === '42501';
}

/** The record an update or delete targeted is not there (or not visible to this tenant). */
export function isRecordNotFound(error: unknown): boolean {
  return prismaCode(error) === 'P2025';
}

/** A unique or foreign-key constraint refused the write. */
export function isConstraintViolation(error: unknown): boolean {
  const code = prismaCode(error);
  return code === 'P2002' || code === 'P2003';
}
