import { builder } from '../builder.js';
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
  t.prismaField({
    type: ['Membership'],
    description: 'Everyone in the viewer’s tenant, oldest membership first.',
    resolve: (query, _root, _args, context) =>
      context.db.membership.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }] }),
  }),
);
