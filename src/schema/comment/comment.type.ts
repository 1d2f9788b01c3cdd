import { builder } from '../builder.js';

builder.prismaNode('Comment', {
  id: { field: 'id' },
  // Select mode: a query loads the columns its selection reads (and the cursor's), not every column.
  select: { id: true },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  fields: (t) => ({
    body: t.exposeString('body'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    // A user is visible only while they are a member of the viewer's tenant (see User), and a
    // comment outlives its author's membership: non-null, one former member's comment would null
    // the whole task or list it appears in.
    author: t.relation('author', {
      nullable: true,
      description: 'Who wrote the comment; null once they are no longer a member of the viewer’s tenant.',
    }),
    task: t.relation('task'),
  }),
});
