import { builder } from '../builder.js';

builder.prismaNode('Comment', {
  id: { field: 'id' },
  fields: (t) => ({
    body: t.exposeString('body'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    author: t.relation('author'),
    task: t.relation('task'),
  }),
});
