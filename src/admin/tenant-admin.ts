import { z } from 'zod';
import type { PrismaClient, Role, Tenant, User } from '../generated/prisma/client.js';
import { ROLES } from '../schema/shared/roles.js';
import { canonicalSubject, hasControlCharacter } from '../tenancy/resolve-tenant.js';
import { AdminError } from './admin-errors.js';

// Administration runs on the trusted system client: it is the only writer of the shared tables.

const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a slug is 1–63 lowercase letters, digits and inner hyphens');
const email = z.email('not a valid email address').max(320);
const name = z.string().trim().min(1, 'must not be empty').max(200);
const plan = z.string().regex(/^[a-z0-9_-]{1,32}$/, 'a plan is 1–32 lowercase letters, digits, _ or -');
const role = z.enum(ROLES, { error: `a role is one of ${ROLES.join(', ')}` });
// What a token's `iss` and `sub` may be (src/tenancy/resolve-tenant.ts) and user_identities holds.
const printable = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `at most ${max} characters`)
    .refine((value) => !hasControlCharacter(value), 'no control characters');
const issuer = printable(512);
const subject = printable(255);

/** Who a token names: its issuer (`iss`) and subject (`sub`), as the provider spells them. */
export interface IdentityInput {
  issuer: string;
  subject: string;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new AdminError(`${what}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

export async function createTenant(prisma: PrismaClient, input: { slug: string; name?: string; plan?: string }): Promise<Tenant> {
  const data = {
    slug: parse(slug, input.slug, 'slug'),
    name: parse(name, input.name ?? input.slug, 'name'),
    plan: parse(plan, input.plan ?? 'free', 'plan'),
  };
  if (await prisma.tenant.findUnique({ where: { slug: data.slug } })) {
    throw new AdminError(`a tenant with slug ${data.slug} already exists`);
  }
  return prisma.tenant.create({ data });
}

export async function setTenantStatus(prisma: PrismaClient, tenantSlug: string, status: 'ACTIVE' | 'SUSPENDED'): Promise<Tenant> {
  const tenant = await requireTenant(prisma, tenantSlug);
  return prisma.tenant.update({ where: { id: tenant.id }, data: { status } });
}

export function listTenants(prisma: PrismaClient) {
  return prisma.tenant.findMany({
    orderBy: { slug: 'asc' },
    include: { _count: { select: { memberships: true } } },
  });
}

/**
 * Creates a user; with `identity`, the identity its tokens carry too (in one transaction). When the
 * user exists already and an identity is given, the identity is added to that user (a second
 * provider, during a migration); `created` tells which.
 */
export async function addUser(
  prisma: PrismaClient,
  input: { email: string; name?: string; identity?: IdentityInput },
): Promise<User & { created?: boolean }> {
  const address = parse(email, input.email, 'email').toLowerCase();
  const identity = input.identity && parseIdentity(input.identity);
  const existing = await prisma.user.findUnique({ where: { email: address } });
  if (existing && !identity) throw new AdminError(`a user with email ${address} already exists`);
  const userName = parse(name, input.name ?? address.split('@')[0], 'name');
  if (!identity) return { ...(await prisma.user.create({ data: { email: address, name: userName } })), created: true };
  return prisma.$transaction(async (tx) => {
    const user = existing ?? (await tx.user.create({ data: { email: address, name: userName } }));
    const owner = await tx.userIdentity.findUnique({ where: { issuer_subject: identity }, include: { user: true } });
    if (owner) throw new AdminError(`${identity.subject} of ${identity.issuer} is already the identity of ${owner.user.email}`);
    await tx.userIdentity.create({ data: { ...identity, userId: user.id } });
    return { ...user, created: !existing };
  });
}

function parseIdentity(input: IdentityInput): IdentityInput {
  // Stored the way the server compares it: a UUID in lower case, anything else exactly.
  return { issuer: parse(issuer, input.issuer, 'issuer'), subject: canonicalSubject(parse(subject, input.subject, 'subject')) };
}

export async function addMember(prisma: PrismaClient, userEmail: string, tenantSlug: string, roleName: string) {
  const [user, tenant] = await Promise.all([requireUser(prisma, userEmail), requireTenant(prisma, tenantSlug)]);
  const memberRole = parse(role, roleName, 'role') as Role;
  const existing = await prisma.membership.findUnique({ where: { tenantId_userId: { tenantId: tenant.id, userId: user.id } } });
  if (existing) throw new AdminError(`${user.email} is already a member of ${tenant.slug} (as ${existing.role})`);
  const membership = await prisma.membership.create({ data: { tenantId: tenant.id, userId: user.id, role: memberRole } });
  return { user, tenant, membership };
}

export async function removeMember(prisma: PrismaClient, userEmail: string, tenantSlug: string) {
  const [user, tenant] = await Promise.all([requireUser(prisma, userEmail), requireTenant(prisma, tenantSlug)]);
  const removed = await prisma.membership.deleteMany({ where: { tenantId: tenant.id, userId: user.id } });
  if (removed.count === 0) throw new AdminError(`${user.email} is not a member of ${tenant.slug}`);
  return { user, tenant };
}

export async function changeMemberRole(prisma: PrismaClient, userEmail: string, tenantSlug: string, roleName: string) {
  const [user, tenant] = await Promise.all([requireUser(prisma, userEmail), requireTenant(prisma, tenantSlug)]);
  const memberRole = parse(role, roleName, 'role') as Role;
  const updated = await prisma.membership.updateMany({
    where: { tenantId: tenant.id, userId: user.id },
    data: { role: memberRole },
  });
  if (updated.count === 0) throw new AdminError(`${user.email} is not a member of ${tenant.slug}`);
  return { user, tenant, role: memberRole };
}

export function listUsers(prisma: PrismaClient) {
  return prisma.user.findMany({ orderBy: { email: 'asc' }, include: { _count: { select: { memberships: true } } } });
}

export async function listMembers(prisma: PrismaClient, tenantSlug: string) {
  const tenant = await requireTenant(prisma, tenantSlug);
  const memberships = await prisma.membership.findMany({
    where: { tenantId: tenant.id },
    include: { user: true },
    orderBy: { user: { email: 'asc' } },
  });
  return { tenant, memberships };
}

/**
 * The membership a token for `user` in `tenant` needs: the server resolves every request to one, so
 * a token without it would only ever be refused.
 */
export async function requireMembership(prisma: PrismaClient, user: User, tenant: Tenant) {
  const membership = await prisma.membership.findUnique({ where: { tenantId_userId: { tenantId: tenant.id, userId: user.id } } });
  if (!membership) {
    throw new AdminError(
      `${user.email} is not a member of ${tenant.slug}, so the server would refuse the token; add them first: member add ${user.email} ${tenant.slug} --role <ROLE>`,
    );
  }
  return membership;
}

/**
 * A new tenant with its first owner, in one step: the user is the existing one with that email, or
 * a new one. Every input is checked before anything is written, and the tenant and the membership
 * are written together, so a refused bootstrap leaves no tenant behind.
 */
export async function bootstrapTenant(
  prisma: PrismaClient,
  input: { slug: string; name?: string; plan?: string; ownerEmail: string },
): Promise<{ tenant: Tenant; owner: User; ownerCreated: boolean }> {
  const data = {
    slug: parse(slug, input.slug, 'slug'),
    name: parse(name, input.name ?? input.slug, 'name'),
    plan: parse(plan, input.plan ?? 'free', 'plan'),
  };
  const ownerEmail = parse(email, input.ownerEmail, 'owner').toLowerCase();
  if (await prisma.tenant.findUnique({ where: { slug: data.slug } })) {
    throw new AdminError(`a tenant with slug ${data.slug} already exists`);
  }
  const existing = await prisma.user.findUnique({ where: { email: ownerEmail } });
  const owner = existing ?? (await addUser(prisma, { email: ownerEmail }));
  const tenant = await prisma.$transaction(async (tx) => {
    const created = await tx.tenant.create({ data });
    await tx.membership.create({ data: { tenantId: created.id, userId: owner.id, role: 'OWNER' } });
    return created;
  });
  return { tenant, owner, ownerCreated: !existing };
}

export async function requireTenant(prisma: PrismaClient, tenantSlug: string): Promise<Tenant> {
  const tenant = await prisma.tenant.findUnique({ where: { slug: parse(slug, tenantSlug, 'tenant') } });
  if (!tenant) throw new AdminError(`no tenant with slug ${tenantSlug}`);
  return tenant;
}

export async function requireUser(prisma: PrismaClient, userEmail: string): Promise<User> {
  const user = await prisma.user.findUnique({ where: { email: parse(email, userEmail, 'email').toLowerCase() } });
  if (!user) throw new AdminError(`no user with email ${userEmail}`);
  return user;
}
