import { describe, expect, it } from 'vitest';
import { tenantScope } from '../../../src/db/tenant-db.js';
import { getDatamodel } from '../../../src/generated/pothos-types.js';
import { TenantScope, TenantScopeError } from '../../../src/tenancy/tenant-scope.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const own = { tenantId: A };

describe('TenantScope.scopeArgs', () => {
  it('adds the tenant predicate to a read with no where', () => {
    expect(tenantScope.scopeArgs('Project', 'findMany', {}, A)).toEqual({ where: own });
  });

  it('keeps unique fields at the top level of findUnique and adds the tenant beside them', () => {
    expect(tenantScope.scopeArgs('Task', 'findUnique', { where: { id: 'x' } }, A)).toEqual({
      where: { id: 'x', tenantId: A },
    });
  });

  it('ANDs the tenant in when the where already names a key of the predicate, keeping its own AND list', () => {
    expect(
      tenantScope.scopeArgs('Task', 'findMany', { where: { tenantId: { in: [A, B] }, AND: { title: 'x' } } }, A).where,
    ).toEqual({
      tenantId: { in: [A, B] },
      AND: [{ title: 'x' }, own],
    });
    expect(tenantScope.scopeArgs('Task', 'findMany', { where: { AND: [{ title: 'x' }] } }, A).where).toEqual({
      AND: [{ title: 'x' }],
      tenantId: A,
    });
  });

  it('does not change the where object it was given', () => {
    const where = { id: 'x' };
    tenantScope.scopeArgs('Task', 'findFirst', { where }, A);
    expect(where).toEqual({ id: 'x' });
  });

  it('copies arguments carrying an own __proto__ key as data, never as the copy’s prototype', () => {
    // Arguments are copied with Object.assign for speed on Node 20; Object.assign would set a
    // __proto__ key as the copy's prototype, so such arguments are spread instead.
    const input = JSON.parse('{"__proto__": {"tenantId": "other"}, "where": {"id": "x"}}') as Record<string, unknown>;
    const scoped = tenantScope.scopeArgs('Task', 'findFirst', input, A);
    expect(Object.getPrototypeOf(scoped)).toBe(Object.prototype);
    expect(Object.hasOwn(scoped, '__proto__')).toBe(true);
    expect(scoped.where).toEqual({ id: 'x', tenantId: A });
  });

  it('cannot be widened by a where that names another tenant', () => {
    const scoped = tenantScope.scopeArgs('Task', 'findMany', { where: { tenantId: B } }, A);
    expect(scoped.where).toEqual({ tenantId: B, AND: [own] });
  });

  it('scopes list relations loaded through include and select, at every depth', () => {
    const scoped = tenantScope.scopeArgs(
      'Project',
      'findMany',
      { include: { tasks: { include: { comments: true, assignee: true } } } },
      A,
    );
    expect(scoped.include).toEqual({
      tasks: { where: own, include: { comments: { where: own }, assignee: true } },
    });
    const selected = tenantScope.scopeArgs('Task', 'findFirst', { select: { comments: { where: { body: 'x' } } } }, A);
    expect(selected.select).toEqual({ comments: { where: { body: 'x', tenantId: A } } });
  });

  it('scopes relation counts, both spelled out and as _count: true', () => {
    const spelled = tenantScope.scopeArgs('Task', 'findMany', { select: { _count: { select: { comments: true } } } }, A);
    expect(spelled.select).toEqual({ _count: { select: { comments: { where: own } } } });
    const all = tenantScope.scopeArgs('Project', 'findMany', { include: { _count: true } }, A);
    expect(all.include).toEqual({ _count: { select: { tasks: { where: own } } } });
  });

  it('scopes list relation filters: some, none and every', () => {
    const scoped = tenantScope.scopeArgs(
      'Project',
      'findMany',
      { where: { tasks: { some: { title: 't' }, none: { status: 'DONE' }, every: { title: { contains: 'x' } } } } },
      A,
    );
    expect(scoped.where).toEqual({
      tasks: {
        some: { AND: [{ title: 't' }, own] },
        none: { AND: [{ status: 'DONE' }, own] },
        every: { OR: [{ title: { contains: 'x' } }, { NOT: own }] },
      },
      tenantId: A,
    });
  });

  it('scopes to-one relation filters, including under AND/OR/NOT, and shared targets by their own predicate', () => {
    const scoped = tenantScope.scopeArgs(
      'Task',
      'findMany',
      { where: { OR: [{ project: { name: 'p' } }, { assignee: { is: { email: 'e' } } }], NOT: { assignee: null } } },
      A,
    );
    expect(scoped.where).toEqual({
      OR: [
        { project: { AND: [{ name: 'p' }, own] } },
        { assignee: { is: { AND: [{ email: 'e' }, { memberships: { some: { tenantId: A } } }] } } },
      ],
      NOT: { assignee: null },
      tenantId: A,
    });
  });

  it('limits shared models by their declared predicate', () => {
    expect(tenantScope.scopeArgs('User', 'findMany', {}, A).where).toEqual({ memberships: { some: { tenantId: A } } });
    expect(tenantScope.scopeArgs('Tenant', 'findUnique', { where: { id: B } }, A).where).toEqual({ id: B, AND: [{ id: A }] });
  });

  it('scopes aggregates', () => {
    expect(tenantScope.scopeArgs('Comment', 'count', { where: { body: 'x' } }, A)).toEqual({ where: { body: 'x', tenantId: A } });
    expect(tenantScope.scopeArgs('Comment', 'groupBy', { by: ['taskId'] }, A)).toEqual({ by: ['taskId'], where: own });
  });

  it('forces the bound tenant on creates and refuses a client-supplied other tenant', () => {
    expect(tenantScope.scopeArgs('Project', 'create', { data: { name: 'p' } }, A).data).toEqual({ name: 'p', tenantId: A });
    expect(() => tenantScope.scopeArgs('Project', 'create', { data: { name: 'p', tenantId: B } }, A)).toThrow(TenantScopeError);
    expect(() =>
      tenantScope.scopeArgs('Project', 'createMany', { data: [{ name: 'a' }, { name: 'b', tenantId: B }] }, A),
    ).toThrow(TenantScopeError);
    const upsert = tenantScope.scopeArgs(
      'Project',
      'upsert',
      { where: { id: 'x' }, create: { name: 'p' }, update: { name: 'q' } },
      A,
    );
    expect(upsert).toEqual({ where: { id: 'x', tenantId: A }, create: { name: 'p', tenantId: A }, update: { name: 'q' } });
  });

  it('scopes updates and deletes, and refuses to move a row to another tenant', () => {
    expect(tenantScope.scopeArgs('Task', 'updateMany', { where: { title: 'x' }, data: { title: 'y' } }, A)).toEqual({
      where: { title: 'x', tenantId: A },
      data: { title: 'y' },
    });
    expect(tenantScope.scopeArgs('Task', 'deleteMany', {}, A)).toEqual({ where: own });
    expect(() => tenantScope.scopeArgs('Task', 'update', { where: { id: 'x' }, data: { tenantId: B } }, A)).toThrow(
      /cannot be changed/,
    );
  });

  it('refuses nested relation writes and writes to shared models', () => {
    expect(() =>
      tenantScope.scopeArgs('Project', 'create', { data: { name: 'p', tasks: { create: [{ title: 't' }] } } }, A),
    ).toThrow(/nested relation writes/);
    expect(() => tenantScope.scopeArgs('User', 'update', { where: { id: 'x' }, data: { name: 'n' } }, A)).toThrow(
      /shared models/,
    );
    expect(() => tenantScope.scopeArgs('Tenant', 'create', { data: { slug: 's' } }, A)).toThrow(/shared models/);
  });

  it('refuses an operation it does not know', () => {
    expect(() => tenantScope.scopeArgs('Task', 'findRaw', {}, A)).toThrow(/not supported/);
  });
});

describe('TenantScope construction', () => {
  const datamodel = getDatamodel().datamodel;

  it('refuses a model that is neither tenant-owned nor declared shared', () => {
    expect(() => new TenantScope({ datamodel, sharedModels: { Tenant: (id) => ({ id }) } })).toThrow(/User has no tenantId/);
  });

  it('refuses a relation between tenant-owned models without the tenant in its key', () => {
    const broken = structuredClone(datamodel);
    const task = broken.models.Task;
    const project = task?.fields.find((field) => field.name === 'project');
    if (!project) throw new Error('fixture: Task.project missing');
    (project as { relationFromFields?: string[] }).relationFromFields = ['projectId'];
    expect(
      () =>
        new TenantScope({
          datamodel: broken,
          sharedModels: { Tenant: (id) => ({ id }), User: () => ({}), UserIdentity: () => ({}) },
        }),
    ).toThrow(/Task.project → Project must include tenantId/);
  });
});
