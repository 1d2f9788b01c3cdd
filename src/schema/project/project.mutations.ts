import { z } from 'zod';
import { builder } from '../builder.js';
import { parseGlobalId } from '../shared/global-id.js';
import { validate } from '../shared/validate.js';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const description = z.string().trim().max(5000, 'must be at most 5000 characters').nullish();
// Built once: a zod object schema is costly to make, and compiles its parser on first use.
const NewProject = z.object({ name, description });
const ProjectChanges = z.object({ name: name.optional(), description });

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string({ required: false }),
  }),
});

const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  description: 'Fields left out are unchanged; a null description clears it.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: false }),
    description: t.string({ required: false }),
  }),
});

builder.mutationFields((t) => ({
  createProject: t.prismaField({
    type: 'Project',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const data = validate(NewProject, input);
      const project = await context.db.project.create({
        ...query,
        data: { tenantId: context.tenant.tenantId, name: data.name, description: data.description ?? null },
      });
      context.pubsub.publish({ type: 'project', tenantId: context.tenant.tenantId, projectId: project.id, kind: 'CREATED' });
      return project;
    },
  }),
  updateProject: t.prismaField({
    type: 'Project',
    authScopes: { admin: true },
    args: { input: t.arg({ type: UpdateProjectInput, required: true }) },
    resolve: async (query, _root, { input }, context) => {
      const id = parseGlobalId(input.id, 'Project', 'input.id');
      const data = validate(ProjectChanges, {
        name: input.name,
        description: input.description,
      });
      // A project that is not this tenant's fails the scoped update itself (P2025 → NOT_FOUND).
      const project = await context.db.project.update({
        ...query,
        where: { id },
        data: {
          ...(data.name !== undefined ? { name: data.name } : {}),
          ...(input.description !== undefined ? { description: data.description ?? null } : {}),
        },
      });
      context.pubsub.publish({ type: 'project', tenantId: context.tenant.tenantId, projectId: id, kind: 'UPDATED' });
      return project;
    },
  }),
  archiveProject: t.prismaField({
    type: 'Project',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, context) => {
      const id = parseGlobalId(args.id, 'Project', 'id');
      const project = await context.db.project.update({ ...query, where: { id }, data: { archived: true } });
      context.pubsub.publish({ type: 'project', tenantId: context.tenant.tenantId, projectId: id, kind: 'ARCHIVED' });
      return project;
    },
  }),
}));
