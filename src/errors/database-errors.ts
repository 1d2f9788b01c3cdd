/** What a driver adapter says of a database error: its SQLSTATE, its kind, the constraint it names. */
interface DriverCause {
  originalCode?: string;
  kind?: string;
  constraint?: { index?: string };
}

/** Reads what the database said out of a Prisma error, whichever driver adapter produced it. */
function driverCause(error: unknown): DriverCause | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: unknown } } } | null)?.meta;
  const cause = meta?.driverAdapterError?.cause;
  return typeof cause === 'object' && cause !== null ? (cause as DriverCause) : undefined;
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

/**
 * SQLSTATE classes and codes that mean "the database is not there right now", not "this request
 * is wrong": connection exceptions (08), an administrator or crash shutdown, a server starting
 * up (57P01–57P03), too many connections (53300).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/** Prisma's own codes for the same: unreachable, timed out, closed, no pooled connection in time. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The driver adapters' kinds for a connection that failed or went away. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** pg's and Node's own words when a connection cannot be made or is cut mid-statement. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET|EPIPE|Client has encountered a connection error|terminating connection/i;

/**
 * The database could not be reached or ended the connection: the request may succeed if tried
 * again (on this instance once PostgreSQL is back, or on another), so it is answered UNAVAILABLE,
 * never as the client's fault or an internal error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const cause = driverCause(current);
    if (cause?.originalCode && UNAVAILABLE_SQLSTATE.test(cause.originalCode)) return true;
    if (cause?.kind && UNAVAILABLE_KINDS.has(cause.kind)) return true;
    const code = prismaCode(current) ?? (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    if (current instanceof Error && UNAVAILABLE_MESSAGE.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Prisma's own words for "the value does not fit the column": too long (P2000), not valid for the
 * field (P2006), failed the database's validation (P2007), an input error (P2019), out of range
 * (P2020), not parseable as the column's type (P2023).
 */
const PRISMA_DATA_ERRORS = new Set(['P2000', 'P2006', 'P2007', 'P2019', 'P2020', 'P2023']);

/**
 * The database refused a value a client sent: SQLSTATE class 22, data exception (22P02 invalid text
 * for a UUID, 22021 a NUL byte in text, 22001 too long, 22003 out of range, …), or Prisma's code for
 * the same. Input validation should have refused it first; this is the backstop.
 */
export function isDataException(error: unknown): boolean {
  const sqlstate = driverCause(error)?.originalCode;
  if (typeof sqlstate === 'string') return sqlstate.startsWith('22');
  const code = prismaCode(error);
  return code !== undefined && PRISMA_DATA_ERRORS.has(code);
}

/** The SQLSTATE or Prisma code of a database error, for the log. */
export function databaseCode(error: unknown): string | undefined {
  return driverCause(error)?.originalCode ?? prismaCode(error);
}

/** The name of the constraint (or its index) that refused the write, when the database said. */
export function violatedConstraint(error: unknown): string | undefined {
  return driverCause(error)?.constraint?.index;
}

/** A unique constraint refused the write (SQLSTATE 23505), however the statement was sent. */
export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === 'P2002' || driverCause(error)?.originalCode === '23505';
}
