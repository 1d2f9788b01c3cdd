import { z } from 'zod';
import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/global-id.js';
import { requireTask } from '../shared/require-row.js';
import { validate } from '../shared/validate.js';

// Built once: a zod object schema is costly to make, and compiles its parser on first use.
const NewComment = z.object({
  body: z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters'),
});

const AddCommentInput = builder.inputType('AddCommentInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    body: t.string({ required: true }),
  }),
});

builder.mutationField('addComment', (t) =>
  t.prismaField({
    type: 'Comment',
    authScopes: { member: true },
    args: { input: t.arg({ type: AddCommentInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const taskId = parseGlobalId(input.taskId, 'Task', 'input.taskId');
      const data = validate(NewComment, { body: input.body });
      await requireTask(context.db, taskId);
      const comment = await context.db.comment.create({
        ...query,
        data: { tenantId: context.tenant.tenantId, taskId, authorId: context.tenant.userId, body: data.body },
      });
      context.pubsub.publish({ type: 'comment', tenantId: context.tenant.tenantId, taskId, commentId: comment.id });
      return comment;
    },
  }),
);
