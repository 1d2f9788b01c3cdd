import { USAGE } from './commands.js';

/** What each command does, for `<command> --help`; its usage line comes from USAGE. */
const DESCRIPTIONS: Record<string, string> = {
  'tenant create': 'Creates a tenant (ACTIVE). --name defaults to the slug, --plan to free. Prints its id.',
  'tenant suspend': 'Suspends a tenant: running servers refuse its requests and close its subscriptions at once.',
  'tenant activate': 'Makes a suspended tenant ACTIVE again.',
  'tenant list': 'Lists every tenant under a header: slug, id, status, plan, members, name (tab-separated).',
  'tenant bootstrap':
    'Creates a tenant and its OWNER in one step: the user with that email (created if new) joins as OWNER,\n' +
    'and a development token for them is printed (not with JWT_JWKS_URL or JWT_ISSUERS: they sign in there).\n' +
    'Nothing is written if any input is refused.',
  'user add':
    "Adds a user and prints their id (the `sub` of this server's development tokens). With --subject, registers\n" +
    "the identity an identity provider's tokens carry (--issuer: the configured one by default); a user who\n" +
    'exists already gets the identity added.',
  'user list': 'Lists every user under a header: email, id, number of memberships, name.',
  'member list': 'Lists the members of a tenant under a header: email, role, user id, name.',
  'member add': 'Makes a user a member of a tenant, with a role.',
  'member remove': 'Ends a membership: running servers refuse that user in that tenant at once.',
  'member role': "Changes a member's role; it applies to their next request.",
  'token issue':
    'Prints a development token (signed with the key in DATA_DIR) for a member of a tenant, alone on stdout.\n' +
    'Refuses a user who is not a member: the server would refuse the token. --ttl defaults to 1h.',
};

/** `usage: …` and what the command does; the whole USAGE for no command or an unknown one. */
export function helpFor(command: string | undefined): string {
  const lines = USAGE.split('\n');
  const at = command ? lines.findIndex((line) => line.trim() === command || line.trim().startsWith(`${command} `)) : -1;
  const description = command ? DESCRIPTIONS[command] : undefined;
  if (at < 0 || !description) return USAGE;
  // A usage line may go on over lines indented deeper than the commands.
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((line) => !/^ {6,}\S/.test(line));
  const more = rest.slice(0, end < 0 ? rest.length : end);
  return `usage: npm run cli -- ${[lines[at]?.trim(), ...more].join('\n')}\n\n${description}`;
}

/** The usage lines of one group (`tenant`, `user`, …), for `<group> --help`. */
export function helpForGroup(group: string): string | undefined {
  const lines = USAGE.split('\n').filter((line) => line.trim().startsWith(`${group} `));
  return lines.length > 0
    ? `usage: npm run cli -- <command>\n\n${lines.join('\n')}\n\nAdd --help to a command for what it does.`
    : undefined;
}
