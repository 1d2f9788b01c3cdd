import { encodeGlobalID } from '@pothos/plugin-relay';
import type { DomainEvent } from '../../pubsub/events.js';
import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/global-id.js';

type TaskEvent = Extract<DomainEvent, { type: 'task' }>;

const TaskChangeKind = builder.enumType('TaskChangeKind', { values: ['CREATED', 'UPDATED', 'DELETED'] as const });

const TaskChangedEvent = builder.objectRef<TaskEvent>('TaskChangedEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: TaskChangeKind, resolve: (event) => event.kind }),
    taskId: t.id({ resolve: (event) => encodeGlobalID('Task', event.taskId) }),
    task: t.prismaField({
      type: 'Task',
      nullable: true,
      description: 'The task as it is now, seen by the subscriber; null once deleted.',
      resolve: (query, event, _args, context) => {
        const lookup = { ...query, where: { id: event.taskId } };
        return event.kind === 'DELETED' ? null : context.db.task.findUnique(lookup);
      },
    }),
  }),
});

builder.subscriptionField('taskChanged', (t) =>
  t.field({
    type: TaskChangedEvent,
    description: 'Tasks of one project created, updated or deleted. Another tenant’s project id simply never has events.',
    args: { projectId: t.arg.id({ required: true }) },
    subscribe: (_root, args, context) =>
      context.pubsub.subscribe(context.tenant.tenantId, [
        'task',
        parseGlobalId(args.projectId, 'Project', 'projectId'),
      ]) as AsyncIterable<TaskEvent>,
    resolve: (event) => event,
  }),
);
