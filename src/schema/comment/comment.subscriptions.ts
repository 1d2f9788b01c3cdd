import type { DomainEvent } from '../../pubsub/events.js';
import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/global-id.js';

type CommentEvent = Extract<DomainEvent, { type: 'comment' }>;

builder.subscriptionField('commentAdded', (t) =>
  t.prismaField({
    type: 'Comment',
    nullable: true,
    description: 'Comments added to one task; null if the comment is gone by the time it is delivered.',
    args: { taskId: t.arg.id({ required: true }) },
    subscribe: (_root, args, context) =>
      context.pubsub.subscribe(context.tenant.tenantId, ['comment', parseGlobalId(args.taskId, 'Task', 'taskId')]),
    resolve: (query, event, _args, context) =>
      context.db.comment.findUnique({ ...query, where: { id: (event as unknown as CommentEvent).commentId } }),
  }),
);
