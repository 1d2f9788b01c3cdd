import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { TaskStatusEnum } from '../shared/enums.js';

builder.prismaNode('Task', {
  id: { field: 'id' },
  // Select mode: a query loads the columns its selection reads (and the cursor's), not every column —
  // but the small ones nearly every read shows (title and status) are always loaded and resolved straight from
  // the row: an exposed column goes through Pothos's per-row selection bookkeeping on every row of
  // every list (title, status and the names were ~9% of the nested read's CPU).
  select: { id: true, title: true, status: true },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  fields: (t) => ({
    title: t.string({ resolve: (task) => task.title }),
    status: t.field({ type: TaskStatusEnum, resolve: (task) => task.status }),
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
