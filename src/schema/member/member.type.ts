import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { RoleEnum } from '../shared/enums.js';

builder.prismaObject('Membership', {
  name: 'Member',
  description: 'A user’s membership of the viewer’s tenant.',
  fields: (t) => ({
    user: t.relation('user'),
    role: t.expose('role', { type: RoleEnum }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('members', (t) =>
  // A page at a time, like every list: a tenant with a hundred thousand members must not be able to
  // make one answer (and this server's memory) that large.
  t.prismaConnection({
    type: 'Membership',
    cursor: CURSOR,
    description: 'Everyone in the viewer’s tenant, oldest membership first.',
    totalCount: (_connection, _args, context) => context.db.membership.count(),
    resolve: (query, _root, _args, context) =>
      context.db.membership.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
);
