import { z } from 'zod';
import type { TenantDb } from '../../db/tenant-db.js';
import { databaseCode, violatedConstraint } from '../../errors/database-errors.js';
import { badInput, notFound } from '../../errors/error-codes.js';
import { builder } from '../builder.js';
import { TaskStatusEnum } from '../shared/enums.js';
import { parseGlobalId } from '../shared/global-id.js';
import { validate } from '../shared/validate.js';

const title = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');
// Built once: a zod object schema is costly to make, and compiles its parser on first use.
const NewTask = z.object({ title });
const TaskChanges = z.object({ title: title.optional(), status: z.enum(['TODO', 'IN_PROGRESS', 'DONE']).optional() });

const CreateTaskInput = builder.inputType('CreateTaskInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    title: t.string({ required: true }),
    assigneeId: t.id({ required: false }),
    dueAt: t.field({ type: 'DateTime', required: false }),
  }),
});

const UpdateTaskInput = builder.inputType('UpdateTaskInput', {
  description: 'Fields left out are unchanged; a null assigneeId unassigns.',
  fields: (t) => ({
    id: t.id({ required: true }),
    title: t.string({ required: false }),
    status: t.field({ type: TaskStatusEnum, required: false }),
    assigneeId: t.id({ required: false }),
    dueAt: t.field({ type: 'DateTime', required: false }),
  }),
});

builder.mutationFields((t) => ({
  createTask: t.prismaField({
    type: 'Task',
    authScopes: { member: true },
    args: { input: t.arg({ type: CreateTaskInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const projectId = parseGlobalId(input.projectId, 'Project', 'input.projectId');
      const data = validate(NewTask, { title: input.title });
      const assigneeId = input.assigneeId ? await requireMember(context.db, input.assigneeId) : null;
      // One statement: the insert itself refuses a project that is not this tenant's or not there
      // (the composite foreign key) and an archived one (a trigger), each told apart below.
      const task = await context.db.task
        .create({
          ...query,
          data: { tenantId: context.tenant.tenantId, projectId, title: data.title, assigneeId, dueAt: input.dueAt ?? null },
        })
        .catch((error: unknown) => {
          throw projectRefusal(error) ?? error;
        });
      context.pubsub.publish({ type: 'task', tenantId: context.tenant.tenantId, projectId, taskId: task.id, kind: 'CREATED' });
      return task;
    },
  }),
  updateTask: t.prismaField({
    type: 'Task',
    authScopes: { member: true },
    args: { input: t.arg({ type: UpdateTaskInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const id = parseGlobalId(input.id, 'Task', 'input.id');
      const data = validate(TaskChanges, {
        title: input.title,
        status: input.status ?? undefined,
      });
      if (input.status === null) throw badInput([{ field: 'input.status', message: 'must not be null' }]);
      const assigneeId =
        input.assigneeId === undefined
          ? undefined
          : input.assigneeId === null
            ? null
            : await requireMember(context.db, input.assigneeId);
      // One statement: a task that is not this tenant's (or not there) fails the update itself
      // (P2025 → NOT_FOUND), and the event's project comes back with the row.
      const task = await context.db.task.update({
        ...query,
        ...('select' in query && query.select ? { select: { ...query.select, projectId: true } } : {}),
        where: { id },
        data: {
          ...(data.title !== undefined ? { title: data.title } : {}),
          ...(data.status !== undefined ? { status: data.status } : {}),
          ...(assigneeId !== undefined ? { assigneeId } : {}),
          ...(input.dueAt !== undefined ? { dueAt: input.dueAt } : {}),
        },
      });
      context.pubsub.publish({
        type: 'task',
        tenantId: context.tenant.tenantId,
        projectId: task.projectId,
        taskId: id,
        kind: 'UPDATED',
      });
      return task;
    },
  }),
  deleteTask: t.field({
    type: 'ID',
    description: 'Deletes a task and its comments; returns the deleted task’s id.',
    authScopes: { member: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const id = parseGlobalId(args.id, 'Task', 'id');
      // One statement, like updateTask: a task that is not this tenant's fails the delete itself.
      const { projectId } = await context.db.task.delete({ where: { id }, select: { projectId: true } });
      context.pubsub.publish({ type: 'task', tenantId: context.tenant.tenantId, projectId, taskId: id, kind: 'DELETED' });
      return args.id;
    },
  }),
}));

/**
 * The insert's own refusals of the project it names (prisma/migrations/20261212000000_tasks_only_in_open_projects):
 * not there and not this tenant's are one answer, as everywhere.
 */
function projectRefusal(error: unknown) {
  if (violatedConstraint(error) === 'tasks_tenant_id_project_id_fkey') return notFound();
  if (databaseCode(error) === 'TGA01') return badInput([{ field: 'input.projectId', message: 'the project is archived' }]);
  return undefined;
}

/** An assignee must be a member of this tenant; anyone else is "no such member", whoever they are. */
async function requireMember(db: TenantDb, globalId: string): Promise<string> {
  const userId = parseGlobalId(globalId, 'User', 'input.assigneeId');
  const membership = await db.membership.findFirst({ where: { userId }, select: { userId: true } });
  if (!membership) throw badInput([{ field: 'input.assigneeId', message: 'must be a member of this tenant' }]);
  return userId;
}
