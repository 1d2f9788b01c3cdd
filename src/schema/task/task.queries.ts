import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { TaskStatusEnum } from '../shared/enums.js';
import { parseGlobalId } from '../shared/global-id.js';

builder.queryFields((t) => ({
  task: t.prismaField({
    type: 'Task',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, context) =>
      context.db.task.findUnique({ ...query, where: { id: parseGlobalId(args.id, 'Task', 'id') } }),
  }),
  tasks: t.prismaConnection(
    {
      type: 'Task',
      cursor: CURSOR,
      description: 'The tenant’s tasks, oldest first, optionally narrowed to a project, a status or an assignee.',
      args: {
        projectId: t.arg.id({ required: false }),
        status: t.arg({ type: TaskStatusEnum, required: false }),
        assigneeId: t.arg.id({ required: false }),
      },
      totalCount: (_connection, args, context) => context.db.task.count({ where: taskFilter(args) }),
      resolve: (query, _root, args, context) =>
        context.db.task.findMany({ ...query, where: taskFilter(args), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    },
    { description: 'A page of tasks.' },
  ),
}));

function taskFilter(args: { projectId?: string | null; status?: string | null; assigneeId?: string | null }) {
  return {
    ...(args.projectId ? { projectId: parseGlobalId(args.projectId, 'Project', 'projectId') } : {}),
    ...(args.status ? { status: args.status as 'TODO' | 'IN_PROGRESS' | 'DONE' } : {}),
    ...(args.assigneeId ? { assigneeId: parseGlobalId(args.assigneeId, 'User', 'assigneeId') } : {}),
  };
}
