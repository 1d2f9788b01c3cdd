import { randomUUID } from 'node:crypto';
import { getDatamodel } from '../../src/generated/pothos-types.js';
import * as enums from '../../src/generated/prisma/enums.js';

// Rows of any model, made from the Prisma datamodel alone: what lets the isolation tests cover every
// tenant-owned model — one added next month included — without a line written for it.

type Field = ReturnType<typeof getDatamodel>['datamodel']['models'][string]['fields'][number];
type Delegate = { create(args: { data: Record<string, unknown> }): Promise<Record<string, unknown>> };
type Client = Record<string, unknown>;

const TENANT_FIELD = 'tenantId';

/** Whose row it is. */
export interface RowOwner {
  tenantId: string;
}

export const modelFields = (model: string): readonly Field[] => {
  const found = getDatamodel().datamodel.models[model];
  if (!found) throw new Error(`no model ${model} in the datamodel`);
  return found.fields;
};

/** The tenant-owned models: those with the tenant field (how src/tenancy/tenant-scope.ts decides). */
export const tenantOwnedModels = (): string[] =>
  Object.keys(getDatamodel().datamodel.models).filter((model) =>
    modelFields(model).some((field) => field.name === TENANT_FIELD && field.kind === 'scalar'),
  );

/** `prisma.<model>`: the delegate a client offers for `model`. */
export function delegateOf(client: unknown, model: string): Delegate {
  const delegate = (client as Client)[model.charAt(0).toLowerCase() + model.slice(1)];
  if (!delegate) throw new Error(`the client offers no delegate for ${model}`);
  return delegate as Delegate;
}

/**
 * The data of a new row of `model` owned by `owner`: every required field without a default gets a
 * value of its type (strings unique, so unique constraints hold), the tenant field the owner's
 * tenant, and each required relation a parent — created through `system`, in the same tenant.
 */
export async function rowData(system: unknown, model: string, owner: RowOwner): Promise<Record<string, unknown>> {
  const fields = modelFields(model);
  const data: Record<string, unknown> = {};
  const fromRelations = new Set(fields.flatMap((field) => field.relationFromFields ?? []));
  for (const field of fields) {
    if (field.kind === 'object' || !field.isRequired || field.hasDefaultValue || field.isUpdatedAt) continue;
    if (field.name === TENANT_FIELD) data[field.name] = owner.tenantId;
    else if (!fromRelations.has(field.name)) data[field.name] = sampleValue(field);
  }
  for (const relation of fields) {
    const from = relation.relationFromFields ?? [];
    if (relation.kind !== 'object' || from.length === 0) continue;
    const required = from.some((name) => fields.find((field) => field.name === name)?.isRequired);
    if (!required) continue;
    const parent = await parentOf(system, relation.type, owner);
    const to = referencedFields(relation.type, from);
    for (const [index, name] of from.entries()) data[name] = parent[to[index] ?? ''];
  }
  return data;
}

/** Creates a row of `model` for `owner` through `system` (the trusted client) and returns it. */
export async function createRow(system: unknown, model: string, owner: RowOwner): Promise<Record<string, unknown>> {
  return delegateOf(system, model).create({ data: await rowData(system, model, owner) });
}

async function parentOf(system: unknown, model: string, owner: RowOwner): Promise<Record<string, unknown>> {
  if (model === 'Tenant') return { id: owner.tenantId };
  // A user of its own: a model keyed by (tenant, user), as memberships are, must not collide.
  if (model === 'User') return delegateOf(system, 'User').create({ data: await rowData(system, 'User', owner) });
  if (!tenantOwnedModels().includes(model)) {
    throw new Error(`a required relation to the shared model ${model}: teach test/helpers/model-rows.ts to find one`);
  }
  return createRow(system, model, owner);
}

/**
 * What a relation's fields point at. The scope (assertCompositeRelations) holds every relation
 * between tenant-owned models to `(tenantId, x) → (tenantId, id)`; any other relation points at
 * the target's id.
 */
function referencedFields(target: string, from: readonly string[]): string[] {
  const id = modelFields(target).find((field) => field.isId)?.name ?? 'id';
  if (from.length === 1) return [id];
  if (from.length === 2 && from[0] === TENANT_FIELD) return [TENANT_FIELD, id];
  throw new Error(`a relation to ${target} over (${from.join(', ')}): teach test/helpers/model-rows.ts its key`);
}

function sampleValue(field: Field): unknown {
  if (field.kind === 'enum') {
    const values = Object.values((enums as Record<string, Record<string, string>>)[field.type] ?? {});
    if (values.length === 0) throw new Error(`enum ${field.type} has no values`);
    return field.isList ? [values[0]] : values[0];
  }
  const value = (() => {
    switch (field.type) {
      case 'String':
        return field.name.toLowerCase().includes('email') ? `${randomUUID()}@rows.test` : `${field.name}-${randomUUID()}`;
      case 'Int':
      case 'Float':
      case 'Decimal':
        return 1;
      case 'BigInt':
        return 1n;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date();
      case 'Json':
        return {};
      case 'Bytes':
        return new Uint8Array([1]);
      default:
        throw new Error(`a required ${field.type} field (${field.name}): teach test/helpers/model-rows.ts a value`);
    }
  })();
  return field.isList ? [value] : value;
}
