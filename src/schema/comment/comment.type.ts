import { builder } from '../builder.js';

builder.prismaNode('Comment', {
  id: { field: 'id' },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  fields: (t) => ({
    body: t.exposeString('body'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    author: t.relation('author'),
    task: t.relation('task'),
  }),
});
