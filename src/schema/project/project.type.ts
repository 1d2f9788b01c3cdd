import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { TaskStatusEnum } from '../shared/enums.js';

builder.prismaNode('Project', {
  id: { field: 'id' },
  // Select mode: a query loads the columns its selection reads (and the cursor's), not every column.
  select: { id: true },
  // node(id) of a row nobody may see answers null without an exception (see builder.ts).
  nullable: true,
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    archived: t.exposeBoolean('archived'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    tasks: t.relatedConnection('tasks', {
      cursor: CURSOR,
      totalCount: true,
      args: { status: t.arg({ type: TaskStatusEnum, required: false }) },
      query: (args) => ({
        where: args.status ? { status: args.status } : {},
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    }),
  }),
});
