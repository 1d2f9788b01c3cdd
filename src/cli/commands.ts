import { AdminError } from '../admin/admin-errors.js';
import {
  addMember,
  addUser,
  bootstrapTenant,
  changeMemberRole,
  createTenant,
  listMembers,
  listTenants,
  listUsers,
  removeMember,
  requireMembership,
  requireTenant,
  requireUser,
  setTenantStatus,
} from '../admin/tenant-admin.js';
import { loadOrCreateDevSigningKey } from '../auth/dev-signing-key.js';
import { issueDevToken } from '../auth/issue-token.js';
import { usesDevSigner } from '../auth/trusted-issuers.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/create-database.js';
import type { RegistryChange } from '../db/registry-notifications.js';

export interface CommandContext {
  config: Config;
  database: Database;
  /** Flags after the command words: --name, --plan, --role, --user, --tenant, --ttl, --subject, --issuer, --owner. */
  flags: Record<string, string | undefined>;
  out: (line: string) => void;
  /** Notes for the operator that are not the command's result (stdout stays pipeable). */
  err: (line: string) => void;
  /** Tells running servers (PostgreSQL NOTIFY, and Redis when configured) that the registry changed. */
  notify: (change: RegistryChange) => Promise<void>;
}

type Command = (args: string[], context: CommandContext) => Promise<void>;

const TTL = /^\d+\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)$/;

/** Rows under a header, tab-separated: readable in a terminal, and `cut -f` still works. */
function table(out: (line: string) => void, header: string[], rows: string[][]): void {
  out(header.join('\t'));
  for (const row of rows) out(row.join('\t'));
}

async function devToken(config: Config, userId: string, tenantSlug: string, ttl: string): Promise<string> {
  const key = await loadOrCreateDevSigningKey(config.dataDir);
  return issueDevToken(key, { ...config.jwt, userId, tenant: tenantSlug, ttl });
}

/**
 * Production without JWT_JWKS_URL, JWT_ISSUERS or ALLOW_DEV_SIGNING_KEY: a server would not start
 * so, and the CLI has no issuer for an identity, nor a key its servers trust for a token.
 */
const NO_DEV_KEY =
  'NODE_ENV=production and the servers trust no development key: ALLOW_DEV_SIGNING_KEY=true (here and on them) ' +
  'if they should; otherwise tokens come from your identity provider';
const NO_ISSUER =
  "NODE_ENV=production and no issuer is configured here: name the provider's with --issuer, or set JWT_ISSUER " +
  'and JWT_JWKS_URL (or JWT_ISSUERS) as the servers have them';

const withoutIssuer = (config: Config) => usesDevSigner(config.jwt) && !config.devSigningKey;

function checkTokenSettings(config: Config, ttl: string): void {
  if (withoutIssuer(config)) throw new AdminError(`no token: ${NO_DEV_KEY}`);
  if (!usesDevSigner(config.jwt)) {
    const setting = config.jwt.issuers
      ? 'JWT_ISSUERS is set: tokens come from those issuers'
      : 'JWT_JWKS_URL is set: tokens come from that issuer';
    throw new AdminError(`${setting}, not from the development key`);
  }
  if (!TTL.test(ttl)) throw new AdminError('--ttl is a duration such as 30m, 12h or 7d');
}

function need(args: string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new AdminError(`usage: ${usage}`);
  return args;
}

const tenantStatus =
  (status: 'ACTIVE' | 'SUSPENDED'): Command =>
  async (args, { database, notify, out }) => {
    const [slug] = need(args, 1, `tenant ${status === 'ACTIVE' ? 'activate' : 'suspend'} <slug>`);
    const tenant = await setTenantStatus(database.prisma, slug ?? '', status);
    await notify({ tenantId: tenant.id });
    out(`tenant ${tenant.slug} (${tenant.id}) is now ${tenant.status}`);
  };

export const COMMANDS: Record<string, Command> = {
  'tenant create': async (args, { database, flags, out }) => {
    const [slug] = need(args, 1, 'tenant create <slug> [--name <name>] [--plan <plan>]');
    const tenant = await createTenant(database.prisma, { slug: slug ?? '', name: flags.name, plan: flags.plan });
    out(
      `created tenant ${tenant.slug}\n  id:     ${tenant.id}\n  name:   ${tenant.name}\n  plan:   ${tenant.plan}\n  status: ${tenant.status}`,
    );
  },
  'tenant bootstrap': async (args, { config, database, flags, out, err }) => {
    const usage = 'tenant bootstrap <slug> --owner <email> [--name <name>] [--plan <plan>] [--ttl <duration>]';
    const [slug] = need(args, 1, usage);
    if (!flags.owner) throw new AdminError(`usage: ${usage}`);
    const ttl = flags.ttl ?? '1h';
    const tokens = config.devSigningKey;
    if (tokens) checkTokenSettings(config, ttl);
    const { tenant, owner, ownerCreated } = await bootstrapTenant(database.prisma, {
      slug: slug ?? '',
      name: flags.name,
      plan: flags.plan,
      ownerEmail: flags.owner,
    });
    out(`created tenant ${tenant.slug} (${tenant.id}), plan ${tenant.plan}`);
    out(`${ownerCreated ? 'created user' : 'existing user'} ${owner.email} (${owner.id}) is its OWNER`);
    // With an external issuer the owner signs in there; the tenant and membership are what it needs.
    if (tokens) out(`token (${ttl}):\n${await devToken(config, owner.id, tenant.slug, ttl)}`);
    else if (withoutIssuer(config)) err(`note: no token printed: ${NO_DEV_KEY}`);
  },
  'tenant suspend': tenantStatus('SUSPENDED'),
  'tenant activate': tenantStatus('ACTIVE'),
  'tenant list': async (args, { database, out }) => {
    need(args, 0, 'tenant list');
    const tenants = await listTenants(database.prisma);
    table(
      out,
      ['SLUG', 'ID', 'STATUS', 'PLAN', 'MEMBERS', 'NAME'],
      tenants.map((tenant) => [
        tenant.slug,
        tenant.id,
        tenant.status,
        tenant.plan,
        String(tenant._count.memberships),
        tenant.name,
      ]),
    );
  },
  'user add': async (args, { config, database, flags, notify, out }) => {
    const [email] = need(args, 1, 'user add <email> [--name <name>] [--subject <sub> [--issuer <iss>]]');
    if (flags.issuer !== undefined && flags.subject === undefined) throw new AdminError('--issuer goes with --subject');
    const identity =
      flags.subject === undefined ? undefined : { issuer: flags.issuer ?? defaultIssuer(config), subject: flags.subject };
    const user = await addUser(database.prisma, { email: email ?? '', name: flags.name, identity });
    if (identity) await notify({ issuer: identity.issuer, subject: identity.subject });
    out(`${user.created ? 'created' : 'updated'} user ${user.email}\n  id:       ${user.id}\n  name:     ${user.name}`);
    if (identity) out(`  identity: ${identity.subject} of ${identity.issuer}`);
    else if (config.devSigningKey) out(`  (the id is the sub of this server's development tokens)`);
    else out('  no identity yet: tokens name no one until one is added with --subject');
  },
  'member add': async (args, { database, flags, notify, out }) => {
    const [email, slug] = need(args, 2, 'member add <email> <tenant-slug> --role <OWNER|ADMIN|MEMBER|VIEWER>');
    if (!flags.role) throw new AdminError('usage: member add <email> <tenant-slug> --role <OWNER|ADMIN|MEMBER|VIEWER>');
    const { user, tenant, membership } = await addMember(database.prisma, email ?? '', slug ?? '', flags.role);
    await notify({ tenantId: tenant.id, userId: user.id });
    out(`${user.email} (${user.id}) is now ${membership.role} of ${tenant.slug} (${tenant.id})`);
  },
  'member remove': async (args, { database, notify, out }) => {
    const [email, slug] = need(args, 2, 'member remove <email> <tenant-slug>');
    const { user, tenant } = await removeMember(database.prisma, email ?? '', slug ?? '');
    await notify({ tenantId: tenant.id, userId: user.id });
    out(`${user.email} (${user.id}) is no longer a member of ${tenant.slug} (${tenant.id})`);
  },
  'member role': async (args, { database, notify, out }) => {
    const [email, slug, role] = need(args, 3, 'member role <email> <tenant-slug> <OWNER|ADMIN|MEMBER|VIEWER>');
    const changed = await changeMemberRole(database.prisma, email ?? '', slug ?? '', role ?? '');
    await notify({ tenantId: changed.tenant.id, userId: changed.user.id });
    out(`${changed.user.email} is now ${changed.role} of ${changed.tenant.slug}`);
  },
  'user list': async (args, { database, out }) => {
    need(args, 0, 'user list');
    const users = await listUsers(database.prisma);
    table(
      out,
      ['EMAIL', 'ID', 'MEMBERSHIPS', 'NAME'],
      users.map((user) => [user.email, user.id, String(user._count.memberships), user.name]),
    );
  },
  'member list': async (args, { database, out }) => {
    const [slug] = need(args, 1, 'member list <tenant-slug>');
    const { memberships } = await listMembers(database.prisma, slug ?? '');
    table(
      out,
      ['EMAIL', 'ROLE', 'USER ID', 'NAME'],
      memberships.map((membership) => [membership.user.email, membership.role, membership.user.id, membership.user.name]),
    );
  },
  'token issue': async (args, { config, database, flags, out, err }) => {
    need(args, 0, 'token issue --user <email> --tenant <slug> [--ttl <duration>]');
    const ttl = flags.ttl ?? '1h';
    checkTokenSettings(config, ttl);
    if (!flags.user || !flags.tenant)
      throw new AdminError('usage: token issue --user <email> --tenant <slug> [--ttl <duration>]');
    const [user, tenant] = await Promise.all([
      requireUser(database.prisma, flags.user),
      requireTenant(database.prisma, flags.tenant),
    ]);
    await requireMembership(database.prisma, user, tenant);
    if (tenant.status !== 'ACTIVE')
      err(`note: ${tenant.slug} is ${tenant.status}; the server refuses its tokens until it is activated`);
    out(await devToken(config, user.id, tenant.slug, ttl));
  },
};

/** The issuer an identity belongs to when --issuer is not given: the one configured, if only one is. */
function defaultIssuer(config: CommandContext['config']): string {
  if (withoutIssuer(config)) throw new AdminError(`--issuer is needed: ${NO_ISSUER}`);
  const listed = config.jwt.issuers;
  if (!listed) return config.jwt.issuer;
  if (listed.length === 1 && listed[0]) return listed[0].issuer;
  throw new AdminError(
    `several issuers are trusted (JWT_ISSUERS): name one with --issuer (${listed.map((i) => i.issuer).join(', ')})`,
  );
}

export const USAGE = `usage: npm run cli -- <command>

  tenant create <slug> [--name <name>] [--plan <plan>]
  tenant bootstrap <slug> --owner <email> [--name <name>] [--plan <plan>] [--ttl <duration>]
  tenant suspend <slug>
  tenant activate <slug>
  tenant list
  user add <email> [--name <name>] [--subject <sub> [--issuer <iss>]]
                        (--subject: the sub of the user's tokens at that issuer, by default the
                         configured one; an existing user gets the identity added)
  member add <email> <tenant-slug> --role <OWNER|ADMIN|MEMBER|VIEWER>
  member remove <email> <tenant-slug>
  member role <email> <tenant-slug> <OWNER|ADMIN|MEMBER|VIEWER>
  member list <tenant-slug>
  user list
  token issue --user <email> --tenant <slug> [--ttl <duration>]   (prints the token alone)

Add --help to any command for what it does. Uses DATABASE_URL when set, otherwise the embedded
database in DATA_DIR (default ./.data) — through the running server when \`npm start\` holds it.`;
