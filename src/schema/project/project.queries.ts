import { builder } from '../builder.js';
import { CURSOR } from '../shared/cursor.js';
import { parseGlobalId } from '../shared/global-id.js';

const archivedFilter = (includeArchived: boolean | null | undefined) => (includeArchived ? {} : { archived: false });

builder.queryFields((t) => ({
  projects: t.prismaConnection({
    type: 'Project',
    cursor: CURSOR,
    description: 'The tenant’s projects, oldest first; archived ones only when asked for.',
    args: { includeArchived: t.arg.boolean({ required: false, defaultValue: false }) },
    totalCount: (_connection, args, context) => context.db.project.count({ where: archivedFilter(args.includeArchived) }),
    resolve: (query, _root, args, context) =>
      context.db.project.findMany({
        ...query,
        where: archivedFilter(args.includeArchived),
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
  }),
  project: t.prismaField({
    type: 'Project',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, context) =>
      context.db.project.findUnique({ ...query, where: { id: parseGlobalId(args.id, 'Project', 'id') } }),
  }),
}));
