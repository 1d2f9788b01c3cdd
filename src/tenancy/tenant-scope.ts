/**
 * Rewrites the arguments of one Prisma operation so that it can only touch the bound tenant's rows —
 * nested relation loads, relation counts and relation filters included. Prisma's `$allOperations`
 * hook sees only the top-level model, so nested reads are scoped here, by walking the arguments with
 * the datamodel. Row-level security in the database is the backstop if this ever misses something.
 *
 * Knows nothing of the domain: what is tenant-owned comes from the datamodel (a model with the tenant
 * field) and the declared shared models.
 */

type Args = Record<string, unknown>;
type Predicate = Args;

export interface DatamodelField {
  name: string;
  kind: string;
  type: string;
  isList: boolean;
  relationFromFields?: readonly string[];
}

export interface Datamodel {
  models: Record<string, { fields: readonly DatamodelField[] }>;
}

export interface TenantScopeOptions {
  datamodel: Datamodel;
  /** The scalar field holding the owning tenant on tenant-owned models. */
  tenantField?: string;
  /**
   * Models without the tenant field that a tenant may still read, each with the predicate limiting
   * it to one tenant. The tenant client never writes them: they change only through administration.
   */
  sharedModels: Record<string, (tenantId: string) => Predicate>;
}

export class TenantScopeError extends Error {
  override name = 'TenantScopeError';
}

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany']);
const AGGREGATES = new Set(['count', 'aggregate', 'groupBy']);

interface Relation {
  target: string;
  isList: boolean;
}

export class TenantScope {
  readonly tenantField: string;
  private readonly owned = new Set<string>();
  private readonly shared: Record<string, (tenantId: string) => Predicate>;
  private readonly relations = new Map<string, Map<string, Relation>>();

  constructor(options: TenantScopeOptions) {
    this.tenantField = options.tenantField ?? 'tenantId';
    this.shared = options.sharedModels;
    for (const [model, { fields }] of Object.entries(options.datamodel.models)) {
      const relations = new Map<string, Relation>();
      for (const field of fields) {
        if (field.kind === 'object') relations.set(field.name, { target: field.type, isList: field.isList });
      }
      this.relations.set(model, relations);
      const hasTenantField = fields.some((field) => field.name === this.tenantField && field.kind === 'scalar');
      if (hasTenantField) this.owned.add(model);
      else if (!(model in this.shared)) {
        throw new TenantScopeError(
          `model ${model} has no ${this.tenantField} field and is not declared shared: every model must be one or the other`,
        );
      }
    }
    this.assertCompositeRelations(options.datamodel);
  }

  /** Every model of the datamodel: tenant-owned or shared. */
  models(): string[] {
    return [...this.relations.keys()];
  }

  /** The relation fields of `model`. */
  relationNames(model: string): string[] {
    return [...this.relationsOf(model).keys()];
  }

  isTenantOwned(model: string): boolean {
    return this.owned.has(model);
  }

  /** The predicate limiting `model` to one tenant. */
  predicate(model: string, tenantId: string): Predicate {
    if (this.owned.has(model)) return { [this.tenantField]: tenantId };
    const shared = this.shared[model];
    if (!shared) throw new TenantScopeError(`unknown model ${model}`);
    return shared(tenantId);
  }

  /** The arguments of `model.operation(args)`, scoped to `tenantId`. Unknown operations are refused. */
  scopeArgs(model: string, operation: string, args: Args | undefined, tenantId: string): Args {
    const input: Args = args ?? {};
    if (READS.has(operation)) {
      return this.scopeProjection(model, withKeys(input, { where: this.scopeWhere(model, input.where, tenantId) }), tenantId);
    }
    if (AGGREGATES.has(operation)) {
      return withKeys(input, { where: this.scopeWhere(model, input.where, tenantId) });
    }
    this.assertWritable(model, operation);
    switch (operation) {
      case 'create':
        return this.scopeProjection(model, withKeys(input, { data: this.ownedData(model, input.data, tenantId) }), tenantId);
      case 'createMany':
      case 'createManyAndReturn': {
        const rows = Array.isArray(input.data) ? input.data : [input.data];
        const scoped = withKeys(input, { data: rows.map((row) => this.ownedData(model, row, tenantId)) });
        return operation === 'createMany' ? scoped : this.scopeProjection(model, scoped, tenantId);
      }
      case 'update':
      case 'delete':
        return this.scopeProjection(
          model,
          withKeys(input, {
            where: this.scopeWhere(model, input.where, tenantId),
            ...(operation === 'update' ? { data: this.checkedUpdate(model, input.data) } : {}),
          }),
          tenantId,
        );
      case 'updateMany':
      case 'updateManyAndReturn':
      case 'deleteMany': {
        const scoped: Args = withKeys(input, { where: this.scopeWhere(model, input.where, tenantId) });
        if (operation !== 'deleteMany') scoped.data = this.checkedUpdate(model, input.data);
        return operation === 'updateManyAndReturn' ? this.scopeProjection(model, scoped, tenantId) : scoped;
      }
      case 'upsert':
        return this.scopeProjection(
          model,
          withKeys(input, {
            where: this.scopeWhere(model, input.where, tenantId),
            create: this.ownedData(model, input.create, tenantId),
            update: this.checkedUpdate(model, input.update),
          }),
          tenantId,
        );
      default:
        throw new TenantScopeError(`operation ${model}.${operation} is not supported by the tenant client`);
    }
  }

  // --- where ----------------------------------------------------------------------------------

  /**
   * The caller's `where` (its relation filters scoped) AND the tenant predicate. The caller's
   * top-level keys stay where they are (a unique read or write needs its unique fields there). The
   * predicate's keys join them when none of them is taken — Prisma ANDs a filter's keys, and builds
   * a statement from `{ id, tenantId }` ~20 µs faster than from `{ id, AND: [{ tenantId }] }`, on
   * every tenant statement — and go into the AND list when one is (a caller's own `tenantId`
   * condition is kept, and the predicate still holds beside it).
   */
  private scopeWhere(model: string, where: unknown, tenantId: string): Args {
    const own = this.predicate(model, tenantId);
    if (where === undefined || where === null) return own;
    // A copy of the caller's filter: ours to add to.
    const scoped = this.scopeFilter(model, asObject(where, 'where'), tenantId);
    if (!Object.keys(own).some((key) => Object.hasOwn(scoped, key))) return Object.assign(scoped, own);
    const existing = scoped.AND === undefined ? [] : Array.isArray(scoped.AND) ? scoped.AND : [scoped.AND];
    return withKeys(scoped, { AND: [...existing, own] });
  }

  /** Scopes every relation filter inside `filter`, whose rows are of `model`. */
  private scopeFilter(model: string, filter: Args, tenantId: string): Args {
    const relations = this.relationsOf(model);
    const out: Args = {};
    for (const [key, value] of Object.entries(filter)) {
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        out[key] = Array.isArray(value)
          ? value.map((item) => this.scopeFilter(model, asObject(item, key), tenantId))
          : this.scopeFilter(model, asObject(value, key), tenantId);
        continue;
      }
      const relation = relations.get(key);
      if (!relation || value === null || value === undefined) {
        out[key] = value;
        continue;
      }
      out[key] = relation.isList
        ? this.scopeListFilter(relation.target, asObject(value, key), tenantId)
        : this.scopeSingleFilter(relation.target, asObject(value, key), tenantId);
    }
    return out;
  }

  private scopeListFilter(target: string, filter: Args, tenantId: string): Args {
    const own = this.predicate(target, tenantId);
    const out: Args = {};
    for (const [operator, inner] of Object.entries(filter)) {
      const scopedInner = inner ? this.scopeFilter(target, asObject(inner, operator), tenantId) : {};
      if (operator === 'some' || operator === 'none') out[operator] = { AND: [scopedInner, own] };
      // "every related row of this tenant matches": rows of other tenants neither count nor fail it.
      else if (operator === 'every') out[operator] = { OR: [scopedInner, { NOT: own }] };
      else throw new TenantScopeError(`unknown list relation filter ${operator}`);
    }
    return out;
  }

  private scopeSingleFilter(target: string, filter: Args, tenantId: string): Args {
    const own = this.predicate(target, tenantId);
    const keys = Object.keys(filter);
    const isOperatorForm = keys.length > 0 && keys.every((key) => key === 'is' || key === 'isNot');
    if (!isOperatorForm) return { AND: [this.scopeFilter(target, filter, tenantId), own] };
    const out: Args = {};
    for (const operator of keys) {
      const inner = filter[operator];
      if (inner === null) out[operator] = null;
      else if (operator === 'is') out.is = { AND: [this.scopeFilter(target, asObject(inner, 'is'), tenantId), own] };
      else out.isNot = this.scopeFilter(target, asObject(inner, 'isNot'), tenantId);
    }
    return out;
  }

  // --- select / include / _count --------------------------------------------------------------

  /**
   * Scopes the relation loads of `args` in place: every caller hands it a copy of its own (made with
   * the tenant predicate or data just added), so copying it once more would only cost a copy.
   */
  private scopeProjection(model: string, args: Args, tenantId: string): Args {
    if (args.select) args.select = this.scopeSelection(model, asObject(args.select, 'select'), tenantId);
    if (args.include) args.include = this.scopeSelection(model, asObject(args.include, 'include'), tenantId);
    return args;
  }

  private scopeSelection(model: string, selection: Args, tenantId: string): Args {
    const relations = this.relationsOf(model);
    const out: Args = {};
    for (const [key, value] of Object.entries(selection)) {
      if (key === '_count') {
        out._count = this.scopeCount(model, value, tenantId);
        continue;
      }
      const relation = relations.get(key);
      if (!relation || !value) {
        out[key] = value;
        continue;
      }
      const nested: Args = value === true ? {} : withKeys(asObject(value, key), {});
      if (relation.isList) {
        nested.where = this.scopeWhere(relation.target, nested.where, tenantId);
        out[key] = this.scopeProjection(relation.target, nested, tenantId);
      } else {
        // A to-one relation cannot take a `where`. Between tenant-owned models it is pinned to the same
        // tenant by its composite key (checked in the constructor); a shared target is limited by RLS.
        out[key] = value === true ? true : this.scopeProjection(relation.target, nested, tenantId);
      }
    }
    return out;
  }

  private scopeCount(model: string, value: unknown, tenantId: string): Args {
    const relations = this.relationsOf(model);
    const requested: Args =
      value === true
        ? Object.fromEntries([...relations].filter(([, relation]) => relation.isList).map(([name]) => [name, true]))
        : asObject(asObject(value, '_count').select, '_count.select');
    const select: Args = {};
    for (const [name, spec] of Object.entries(requested)) {
      const relation = relations.get(name);
      if (!relation?.isList) throw new TenantScopeError(`_count of ${model}.${name} is not a list relation`);
      if (!spec) continue;
      const where = spec === true ? undefined : asObject(spec, name).where;
      select[name] = { where: this.scopeWhere(relation.target, where, tenantId) };
    }
    return { select };
  }

  // --- writes ---------------------------------------------------------------------------------

  private assertWritable(model: string, operation: string): void {
    if (!this.owned.has(model)) {
      throw new TenantScopeError(`${model}.${operation}: shared models are not written through the tenant client`);
    }
  }

  /** Create data: the tenant is always the bound one; a different client-supplied tenant is refused. */
  private ownedData(model: string, data: unknown, tenantId: string): Args {
    const row = asObject(data, 'data');
    const supplied = row[this.tenantField];
    if (supplied !== undefined && supplied !== tenantId) {
      throw new TenantScopeError(`${model}: a row cannot be created for another tenant`);
    }
    this.assertNoNestedWrites(model, row);
    return withKeys(row, { [this.tenantField]: tenantId });
  }

  private checkedUpdate(model: string, data: unknown): Args {
    const row = asObject(data, 'data');
    if (this.tenantField in row) throw new TenantScopeError(`${model}: the tenant of a row cannot be changed`);
    this.assertNoNestedWrites(model, row);
    return row;
  }

  // Nested writes would reach other models without passing through scopeArgs: refuse them and
  // write each model with its own (scoped) operation and scalar foreign keys instead.
  private assertNoNestedWrites(model: string, row: Args): void {
    const relations = this.relationsOf(model);
    for (const key of Object.keys(row)) {
      if (relations.has(key)) {
        throw new TenantScopeError(`${model}.${key}: nested relation writes are not supported by the tenant client`);
      }
    }
  }

  private relationsOf(model: string): Map<string, Relation> {
    const relations = this.relations.get(model);
    if (!relations) throw new TenantScopeError(`unknown model ${model}`);
    return relations;
  }

  /** Every relation between two tenant-owned models must carry the tenant in its foreign key. */
  private assertCompositeRelations(datamodel: Datamodel): void {
    for (const [model, { fields }] of Object.entries(datamodel.models)) {
      if (!this.owned.has(model)) continue;
      for (const field of fields) {
        if (field.kind !== 'object' || !this.owned.has(field.type)) continue;
        const from = field.relationFromFields ?? [];
        if (from.length > 0 && !from.includes(this.tenantField)) {
          throw new TenantScopeError(
            `relation ${model}.${field.name} → ${field.type} must include ${this.tenantField} in its fields (a composite tenant key)`,
          );
        }
      }
    }
  }
}

/**
 * A copy of `object` with `extra`'s keys set — `{ ...object, ...extra }`, written so that Node 20's
 * V8 (11.3) keeps one hidden class for it: there, a spread copy that is then given a key it lacked
 * gets a new hidden class on every call once the site is warm (~1.1 µs a copy, against ~0.12 µs for
 * this; Node 22's V8 has no such cost). Every tenant statement's arguments are copied here.
 */
function withKeys(object: Args, extra: Args): Args {
  // Object.assign sets `__proto__` where a spread defines it: such an object keeps the spread.
  if (Object.hasOwn(object, '__proto__') || Object.hasOwn(extra, '__proto__')) return { ...object, ...extra };
  return Object.assign({}, object, extra);
}

function asObject(value: unknown, where: string): Args {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TenantScopeError(`expected an object for ${where}`);
  }
  return value as Args;
}
