/**
 * A start-up failure an operator fixes with a setting: printed as one line that names the setting
 * at fault, without a stack trace (it is not a bug of the server).
 */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    /** The environment variable to look at. */
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

/** Where a URL points, without its credentials: what an error message may show. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 'default port'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'an unparsable URL';
  }
}

/** A short reason for a network or driver error: its code (ECONNREFUSED) or its first line. */
export function reasonOf(error: unknown): string {
  const { code, message, errors } = (error ?? {}) as { code?: unknown; message?: unknown; errors?: unknown[] };
  const text = typeof message === 'string' && message.length > 0 ? message.split('\n', 1)[0] : undefined;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  if (text) return text;
  if (Array.isArray(errors) && errors.length > 0) return reasonOf(errors[0]);
  return String(error);
}
