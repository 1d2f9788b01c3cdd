import { encodeGlobalID } from '@pothos/plugin-relay';
import type { LoadJob } from './load.js';
import type { BenchTenant } from './seed.js';

export type TaskStatus = 'TODO' | 'IN_PROGRESS' | 'DONE';

/**
 * One request of an HTTP workload, said once and then written for each server in its own naming:
 * the same caller, the same rows and the same fields, so that tenantgraph and PostGraphile are
 * measured on the same work and not merely on similar-looking queries.
 */
export type Operation =
  | { kind: 'viewer'; caller: BenchTenant }
  | { kind: 'nested'; caller: BenchTenant }
  /** The task may be another tenant's: both servers must answer null for it. */
  | { kind: 'point'; caller: BenchTenant; taskId: string }
  | { kind: 'create'; caller: BenchTenant; projectId: string; title: string }
  | { kind: 'update'; caller: BenchTenant; taskId: string; status: TaskStatus };

/**
 * The nested read's shape on tenantgraph. `nodes` (the default) is the shape PostGraphile is sent:
 * the same answer in the same structure (under PostGraphile's own names). `BENCH_NESTED_SHAPE=edges` sends the Relay shape,
 * `edges { node }` (workload 2 until session 18), whose edge objects and per-row cursors are
 * tenantgraph's work alone — PostGraphile is still sent `nodes`.
 */
export const NESTED_SHAPE = process.env.BENCH_NESTED_SHAPE === 'edges' ? 'edges' : 'nodes';

/** tenantgraph's documents (the baseline serves the same schema). */
export const TENANTGRAPH = {
  viewer: '{ viewer { role user { id } tenant { slug } } }',
  nested:
    NESTED_SHAPE === 'edges'
      ? `{ projects(first: 20) { edges { node { name tasks(first: 20) { edges { node {
  title assignee { name } comments { totalCount } } } } } } } }`
      : `{ projects(first: 20) { nodes { name tasks(first: 20) { nodes {
  title assignee { name } comments { totalCount } } } } } }`,
  point: 'query($id: ID!) { node(id: $id) { id ... on Task { title status } } }',
  create: 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
  update: 'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id status } }',
};

/**
 * The HTTP workloads' documents in PostGraphile's naming of the same tables: the nested read of
 * workload 2, the point read (the very text tenantgraph serves: both expose Relay's `node(id:)`),
 * and the writes — createTask names its tenant, updateTask sets a status by node id.
 */
export const POSTGRAPHILE = {
  nested: `{ allProjects(first: 20, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]) {
  nodes { name tasksByTenantIdAndProjectId(first: 20, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]) { nodes {
    title userByAssigneeId { name } commentsByTenantIdAndTaskId { totalCount } } } } } }`,
  point: 'query($id: ID!) { node(id: $id) { id ... on Task { title status } } }',
  create: 'mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }',
  update: 'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { task { id status } } }',
};

/**
 * A row's node id as PostGraphile 5 encodes it (its default `base64JSON` codec, the GraphQL type
 * name and the primary key): base64 of `["Task","<uuid>"]`. tenantgraph's ids encode `Task:<uuid>`,
 * so the same row has a different id on each server.
 */
export function postGraphileNodeId(typeName: string, id: string): string {
  return Buffer.from(JSON.stringify([typeName, id]), 'utf8').toString('base64');
}

export const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

/** The requests tenantgraph (and the baseline) receive for these operations. */
export function asTenantgraph(operations: Operation[], tokenOf: (tenant: BenchTenant) => string): LoadJob['requests'] {
  return operations.map((operation) => ({ token: tokenOf(operation.caller), body: tenantgraphBody(operation) }));
}

function tenantgraphBody(operation: Operation): string {
  switch (operation.kind) {
    case 'viewer':
      return body(TENANTGRAPH.viewer);
    case 'nested':
      return body(TENANTGRAPH.nested);
    case 'point':
      return body(TENANTGRAPH.point, { id: encodeGlobalID('Task', operation.taskId) });
    case 'create':
      return body(TENANTGRAPH.create, {
        input: { projectId: encodeGlobalID('Project', operation.projectId), title: operation.title },
      });
    case 'update':
      return body(TENANTGRAPH.update, { input: { id: encodeGlobalID('Task', operation.taskId), status: operation.status } });
  }
}

/**
 * The same operations for the PostGraphile peer, or undefined when one has no equivalent there
 * (`viewer` is tenantgraph's own). Its tokens carry the tenant's id, not its slug.
 */
export function asPostGraphile(
  operations: Operation[],
  tokenOf: (tenant: BenchTenant) => string,
): LoadJob['requests'] | undefined {
  const requests: LoadJob['requests'] = [];
  for (const operation of operations) {
    const text = postGraphileBody(operation);
    if (text === undefined) return undefined;
    requests.push({ token: tokenOf(operation.caller), body: text });
  }
  return requests;
}

function postGraphileBody(operation: Operation): string | undefined {
  switch (operation.kind) {
    case 'viewer':
      return undefined;
    case 'nested':
      return body(POSTGRAPHILE.nested);
    case 'point':
      return body(POSTGRAPHILE.point, { id: postGraphileNodeId('Task', operation.taskId) });
    case 'create':
      // PostGraphile has no tenant of its own to fill in: the row names it, and RLS's WITH CHECK
      // refuses any tenant but the caller's.
      return body(POSTGRAPHILE.create, {
        input: { task: { tenantId: operation.caller.id, projectId: operation.projectId, title: operation.title } },
      });
    case 'update':
      return body(POSTGRAPHILE.update, {
        input: { id: postGraphileNodeId('Task', operation.taskId), taskPatch: { status: operation.status } },
      });
  }
}
