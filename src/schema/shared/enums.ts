import { Role, TaskStatus } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';

export const TaskStatusEnum = builder.enumType(TaskStatus, { name: 'TaskStatus' });
export const RoleEnum = builder.enumType(Role, { name: 'Role' });
