import { createHash } from 'node:crypto';

/**
 * Which tenant statements PostgreSQL keeps prepared, by name, on each connection — so that the
 * statements every request repeats (a nested page's one joined statement, a point read, a write)
 * are parsed and planned once per connection instead of on every request. Planning is a good part
 * of a statement's cost under RLS: the bench's nested read, one joined statement behind its
 * settings, ran at 175–195 a second prepared against 152–167 unprepared (pgbench, one client), and
 * a point read's PostgreSQL CPU fell from 0.31 to 0.18 ms with it and its settings prepared. PostGraphile does the same (an LRU of 100
 * statements per connection).
 *
 * Bounded twice, because PostgreSQL keeps a prepared statement (and its cached plan) for the life of
 * the connection: `maxTexts` distinct SQL texts get a name in this process (the rest go unnamed, as
 * every statement did before), and at most `maxPerConnection` of them are prepared on any one
 * connection. Prisma's statements come from a finite set of shapes, so the hot ones are named early;
 * a shape with a list of N values is a new text per N, and that is what the bounds are for.
 *
 * Only where the server talks to PostgreSQL directly: a transaction pooler hands each transaction
 * to any server connection, where the statement may not exist (PgBouncer before 1.21, or with
 * `max_prepared_statements = 0`). `disable()` turns naming off for good when a statement's name
 * turns out to be missing or taken on its connection, which is what a pooler without support
 * for them looks like.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();
  private readonly onConnection = new WeakMap<object, Set<string>>();
  private enabled: boolean;

  constructor(
    enabled: boolean,
    private readonly maxTexts = 500,
    private readonly maxPerConnection = 100,
  ) {
    this.enabled = enabled;
  }

  /**
   * The name to prepare `sql` under on `connection` (pg's Connection object, one per server
   * connection), or undefined to send it unnamed.
   */
  nameFor(sql: string, connection: object): string | undefined {
    if (!this.enabled) return undefined;
    let name = this.names.get(sql);
    if (name === undefined) {
      if (this.names.size >= this.maxTexts) return undefined;
      name = statementName(sql);
      this.names.set(sql, name);
    }
    let prepared = this.onConnection.get(connection);
    if (!prepared) {
      prepared = new Set();
      this.onConnection.set(connection, prepared);
    }
    if (prepared.has(name)) return name;
    if (prepared.size >= this.maxPerConnection) return undefined;
    prepared.add(name);
    return name;
  }

  get active(): boolean {
    return this.enabled;
  }

  /** From now on every statement goes unnamed (what a pooler without prepared statements needs). */
  disable(): void {
    this.enabled = false;
  }
}

/**
 * A statement's name is its text's digest, the same in every process of every instance: should a
 * pooler that does not keep prepared statements give a Bind to a server connection where another
 * instance prepared that name, it is the same text there — never another statement run with these
 * values. (A counter would name different texts alike in two processes.)
 */
export function statementName(sql: string): string {
  return `tenantgraph_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
}

/** What the server and the heavy-query worker log, once, when naming is turned off (onPreparedStatementsDisabled). */
export const PREPARED_STATEMENTS_DISABLED =
  'a prepared statement was missing on its connection (a transaction pooler?): statements now go unnamed; set DATABASE_PREPARED_STATEMENTS=off behind this pooler';

/**
 * SQLSTATEs that say a named statement is not where its connection should have it: 26000, no such
 * prepared statement (the pooler gave the Bind to another server connection), and 42P05, the name
 * is taken (another client's statement there). Both come before anything ran.
 */
export function isMissingPreparedStatement(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '26000' || code === '42P05';
}

/**
 * Whether an error of a named statement may have come at its Parse, so that pg's record of what is
 * prepared on the connection can no longer be trusted: pg records a statement as parsed when the
 * settings statement in front of it parses, before the statement's own Parse has been answered.
 * Errors of the statement's execution (a constraint, a value, RLS's WITH CHECK, a cancelled
 * statement) come after its Parse succeeded and leave the connection's record right.
 */
export function mayHaveFailedToParse(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  // 42: syntax error or access rule violation (unknown table or column, …) — but 42501 is RLS's
  // WITH CHECK or a missing privilege, raised when the statement runs; 0A: feature not supported
  // (a cached plan whose result type changed); 26: invalid statement name; XX: internal error.
  return (code.startsWith('42') && code !== '42501') || code.startsWith('0A') || code.startsWith('26') || code.startsWith('XX');
}
