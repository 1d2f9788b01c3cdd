import { encodeGlobalID } from '@pothos/plugin-relay';
import type { DomainEvent } from '../../pubsub/events.js';
import { builder } from '../builder.js';

type ProjectEvent = Extract<DomainEvent, { type: 'project' }>;

const ProjectChangeKind = builder.enumType('ProjectChangeKind', { values: ['CREATED', 'UPDATED', 'ARCHIVED'] as const });

const ProjectChangedEvent = builder.objectRef<ProjectEvent>('ProjectChangedEvent').implement({
  fields: (t) => ({
    kind: t.field({ type: ProjectChangeKind, resolve: (event) => event.kind }),
    projectId: t.id({ resolve: (event) => encodeGlobalID('Project', event.projectId) }),
    project: t.prismaField({
      type: 'Project',
      nullable: true,
      resolve: (query, event, _args, context) => context.db.project.findUnique({ ...query, where: { id: event.projectId } }),
    }),
  }),
});

builder.subscriptionField('projectChanged', (t) =>
  t.field({
    type: ProjectChangedEvent,
    description: 'Projects of the viewer’s tenant created, updated or archived.',
    subscribe: (_root, _args, context) =>
      context.pubsub.subscribe(context.tenant.tenantId, ['project']) as AsyncIterable<ProjectEvent>,
    resolve: (event) => event,
  }),
);
