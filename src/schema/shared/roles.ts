/** Role rules of the domain: VIEWER reads; MEMBER also writes tasks and comments; ADMIN and OWNER manage projects. */
export const ROLES = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const;
export type RoleName = (typeof ROLES)[number];

export const canWrite = (role: string): boolean => role === 'OWNER' || role === 'ADMIN' || role === 'MEMBER';
export const canManageProjects = (role: string): boolean => role === 'OWNER' || role === 'ADMIN';
