import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { TaskStatusEnum } from '../shared/enums.js';

builder.prismaNode('Task', {
  id: { field: 'id' },
  // Select mode: a query loads the columns its selection reads (and the cursor's), not every column.
  select: { id: true },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: TaskStatusEnum }),
    dueAt: t.expose('dueAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    project: t.relation('project'),
    assignee: t.relation('assignee', { nullable: true }),
    // `totalCount` is Prisma's `_count`: with relation joins it is a LATERAL count inside the page's
    // one statement, and a page that asks only for the count loads no comment rows at all.
    comments: t.relatedConnection('comments', {
      cursor: CURSOR,
      totalCount: true,
      query: () => ({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    }),
  }),
});
