import { builder } from '../builder.js';
import { TaskStatusEnum } from '../shared/enums.js';

builder.prismaNode('Task', {
  id: { field: 'id' },
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: TaskStatusEnum }),
    dueAt: t.expose('dueAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    project: t.relation('project'),
    assignee: t.relation('assignee', { nullable: true }),
    comments: t.relatedConnection('comments', {
      cursor: 'id',
      totalCount: true,
      query: () => ({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    }),
  }),
});
