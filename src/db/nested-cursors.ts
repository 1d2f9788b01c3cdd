import type { PothosPrismaDatamodel } from '@pothos/plugin-prisma';
import { delegateKey } from '../tenancy/tenant-client.js';

type Args = Record<string, unknown>;
type Delegate = Record<string, (args?: Args) => Promise<unknown>>;
type OrderTerm = [field: string, direction: 'asc' | 'desc'];

/** The read operations whose nested selections may page by cursor. */
const READS = ['findMany', 'findFirst', 'findFirstOrThrow', 'findUnique', 'findUniqueOrThrow'] as const;

/**
 * Keeps a page with a cursor inside it one statement. Under Prisma's relation joins a nested list is
 * a LATERAL join with its own LIMIT — but not when it pages by `cursor` (a nested connection's
 * `after`/`before`): then Prisma falls back to a statement per level, fetches every row after the
 * cursor for the parents and cuts them in memory, and counts `_count` by aggregating the tenant's
 * whole table. So a nested cursor is rewritten first into what it means — a keyset condition on the
 * list's order, with the cursor row's values looked up (one small statement) — and the page is read
 * as one statement again. Pages come out the same: the cursor row itself is included as Prisma
 * includes it (the `skip` that drops it is kept), and a cursor row that is gone gives an empty page,
 * as Prisma's does.
 *
 * Only orders over required scalars ending in a unique field are rewritten (what makes the keyset
 * exact); any other nested cursor is left to Prisma.
 */
export function nestedCursorsAsKeysets<Db extends object>(db: Db, datamodel: PothosPrismaDatamodel['datamodel']): Db {
  const models = datamodel.models;
  // Each model's relation fields by name, and the model each leads to: asked for every selected
  // field of every read, so looked up in a map and not searched for in the field list.
  const relations = new Map(
    Object.entries(models).map(([model, { fields }]) => [
      model,
      new Map(fields.filter((field) => field.kind === 'object').map((field) => [field.name, field.type])),
    ]),
  );
  const source = db as unknown as Record<string, Delegate>;
  const wrapped: Record<string, unknown> = { ...(db as object) };
  for (const model of Object.keys(models)) {
    const key = delegateKey(model);
    const delegate = source[key];
    if (!delegate) continue;
    const operations: Record<string, unknown> = { ...delegate };
    for (const operation of READS) {
      const run = delegate[operation];
      if (!run) continue;
      operations[operation] = (args?: Args) => {
        // Nearly every read has no nested cursor: found out without building a path.
        if (!args || !hasNestedCursor(model, args)) return run(args);
        return lowered(args, nestedCursors(model, args)).then((rewritten) => run(rewritten));
      };
    }
    wrapped[key] = Object.freeze(operations);
  }
  return Object.freeze(wrapped) as Db;

  /** Whether a nested relation load (through `select`/`include`) pages by a cursor. */
  function hasNestedCursor(model: string, args: Args): boolean {
    const fields = relations.get(model);
    if (!fields) return false;
    for (const selection of [args.select, args.include]) {
      if (!isObject(selection)) continue;
      for (const field in selection) {
        const target = fields.get(field);
        const value = selection[field];
        if (target === undefined || !isObject(value)) continue;
        if (value.cursor !== undefined || hasNestedCursor(target, value)) return true;
      }
    }
    return false;
  }

  /** The paths (through `select`/`include`) of the nested relation loads that page by a cursor. */
  function nestedCursors(model: string, args: Args, path: string[] = []): { path: string[]; model: string }[] {
    const found: { path: string[]; model: string }[] = [];
    for (const nesting of ['select', 'include'] as const) {
      const selection = args[nesting];
      if (!isObject(selection)) continue;
      for (const [field, value] of Object.entries(selection)) {
        const target = relations.get(model)?.get(field);
        if (target === undefined || !isObject(value)) continue;
        const at = [...path, nesting, field];
        if (value.cursor !== undefined) found.push({ path: at, model: target });
        found.push(...nestedCursors(target, value, at));
      }
    }
    return found;
  }

  async function lowered(args: Args, cursors: { path: string[]; model: string }[]): Promise<Args> {
    const rewritten = structuredClone(args);
    for (const { path, model: listModel } of cursors) {
      const list = path.reduce<Args>((node, step) => node[step] as Args, rewritten);
      const order = exactOrder(listModel, list.orderBy);
      if (!order) continue;
      const row = (await source[delegateKey(listModel)]?.findUnique?.({
        where: list.cursor as Args,
        select: Object.fromEntries(order.map(([field]) => [field, true])),
      })) as Args | null | undefined;
      const backwards = typeof list.take === 'number' && list.take < 0;
      const keyset = row ? keysetFrom(order, row, backwards) : { [order[order.length - 1]?.[0] as string]: { in: [] } };
      list.where = list.where ? { AND: [list.where, keyset] } : keyset;
      delete list.cursor;
    }
    return rewritten;
  }

  /** The list's order as [field, direction] terms, if it is over required scalars and ends in a unique one. */
  function exactOrder(model: string, orderBy: unknown): OrderTerm[] | undefined {
    const terms: OrderTerm[] = [];
    for (const entry of Array.isArray(orderBy) ? orderBy : orderBy ? [orderBy] : []) {
      if (!isObject(entry)) return undefined;
      for (const [field, direction] of Object.entries(entry)) {
        if (direction !== 'asc' && direction !== 'desc') return undefined;
        terms.push([field, direction]);
      }
    }
    const fields = models[model]?.fields ?? [];
    const scalar = (name: string) => fields.find((field) => field.name === name && field.kind !== 'object' && field.isRequired);
    if (terms.length === 0 || terms.some(([field]) => !scalar(field))) return undefined;
    const last = scalar(terms[terms.length - 1]?.[0] as string);
    return last?.isId || last?.isUnique ? terms : undefined;
  }
}

/**
 * The rows at or after (before, paging backwards) `row` in `order`: for order (a, b, id),
 * a > A OR (a = A AND b > B) OR (a = A AND b = B AND id >= ID), with < for descending terms.
 */
function keysetFrom(order: OrderTerm[], row: Args, backwards: boolean): Args {
  const alternatives: Args[] = order.map(([field, direction], index) => {
    const ahead = (direction === 'asc') !== backwards ? 'gt' : 'lt';
    const last = index === order.length - 1;
    const equalBefore = Object.fromEntries(order.slice(0, index).map(([earlier]) => [earlier, row[earlier]]));
    return { ...equalBefore, [field]: { [last ? `${ahead}e` : ahead]: row[field] } };
  });
  return { OR: alternatives };
}

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
