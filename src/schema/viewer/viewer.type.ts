import { notFound } from '../../errors/error-codes.js';
import type { Tenant, User } from '../../generated/prisma/client.js';
import { builder } from '../builder.js';
import { RoleEnum } from '../shared/enums.js';

builder.prismaObject('Tenant', {
  description: 'The organisation whose data this request sees. A request only ever sees one.',
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    plan: t.exposeString('plan'),
  }),
});

builder.prismaNode('User', {
  id: { field: 'id' },
  // The name is always loaded and resolved straight from the row (see Task: no per-row selection
  // bookkeeping); the email only when asked for.
  select: { id: true, name: true },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  description: 'A person. Visible only while they are a member of the viewer’s tenant.',
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.string({ resolve: (user) => user.name }),
  }),
});

const Viewer = builder.objectRef<{ userId: string; role: string }>('Viewer').implement({
  description: 'Who is asking: the caller, their tenant and their role in it.',
  fields: (t) => ({
    // Both come from the registry the request was resolved with, when it holds them: the most
    // frequent query of a client then costs no SQL at all. The types expose no relations.
    user: t.prismaField({
      type: 'User',
      resolve: async (query, viewer, _args, context) => {
        // The registry's profile answers the fields it holds; a selection wanting a column it lacks
        // (a field added to User later) goes to the loader's full row instead.
        const cached = context.profile?.user;
        const wanted = Object.keys(query.select ?? {});
        if (cached && wanted.every((field) => field === 'id' || field in cached)) {
          return { id: viewer.userId, ...cached } as User;
        }
        const user = await context.loaders.userById.load(viewer.userId);
        if (!user) throw notFound();
        return user;
      },
    }),
    tenant: t.prismaField({
      type: 'Tenant',
      resolve: (query, _viewer, _args, context) => {
        const cached = context.profile?.tenant;
        if (cached?.name !== undefined && cached.plan !== undefined) {
          return { id: cached.id, slug: cached.slug, name: cached.name, plan: cached.plan } as Tenant;
        }
        return context.db.tenant.findUniqueOrThrow({ ...query, where: { id: context.tenant.tenantId } });
      },
    }),
    role: t.field({ type: RoleEnum, resolve: (viewer) => viewer.role as never }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    resolve: (_root, _args, context) => ({ userId: context.tenant.userId, role: context.tenant.role }),
  }),
);
