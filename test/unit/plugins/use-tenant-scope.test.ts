import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { createErrorMask } from '../../../src/plugins/mask-error.js';
import { useTenantScope } from '../../../src/plugins/use-tenant-scope.js';
import { createTenantPubSub } from '../../../src/pubsub/tenant-pubsub.js';
import { createRequestContext, type GraphQLContext } from '../../../src/schema/context.js';
import { schema } from '../../../src/schema/index.js';
import { LeaseTimeoutError } from '../../../src/tenancy/leased-clients.js';

const resolved = {
  context: { tenantId: '00000000-0000-4000-8000-000000000001', tenantSlug: 'acme', userId: 'u', role: 'OWNER', requestId: 'r' },
  expiresAt: undefined,
  tenant: { id: '00000000-0000-4000-8000-000000000001', slug: 'acme', active: true },
  membership: { role: 'OWNER' },
};

function saturatedYoga(pubsub = createTenantPubSub()) {
  return createYoga<Record<string, never>, GraphQLContext>({
    schema,
    logging: false,
    maskedErrors: { maskError: createErrorMask(createLogger('silent')) },
    plugins: [
      useTenantScope({
        lease: async () => {
          throw new LeaseTimeoutError(10_000);
        },
        revocationOf: async () => undefined,
      }),
    ],
    context: () => createRequestContext(resolved, { pubsub, maxCost: 50_000 }),
  });
}

describe('an execution that gets no database client in time', () => {
  it('answers UNAVAILABLE with 503 and retry-after — the server is saturated, the request may be retried', async () => {
    const yoga = saturatedYoga();
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ projects(first: 1) { totalCount } }' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })]);
    expect(JSON.stringify(body)).not.toContain('no database client');
  });

  it('on a subscription (SSE), costs that message an UNAVAILABLE error and keeps the subscription for the next', async () => {
    const pubsub = createTenantPubSub();
    const yoga = saturatedYoga(pubsub);
    const projectId = '00000000-0000-4000-8000-0000000000aa';
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: 'subscription($id: ID!) { taskChanged(projectId: $id) { kind } }',
        variables: { id: Buffer.from(`Project:${projectId}`).toString('base64') },
      }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const nextEvents = () => text.split('\n').filter((line) => line.startsWith('data: {'));
    const publish = () =>
      pubsub.publish({ type: 'task', tenantId: resolved.context.tenantId, projectId, taskId: projectId, kind: 'UPDATED' });
    setTimeout(publish, 50);
    setTimeout(publish, 150);
    while (nextEvents().length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await reader.cancel();
    const events = nextEvents().map((line) => JSON.parse(line.slice('data: '.length)));
    expect(events).toEqual([
      { errors: [expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })] },
      { errors: [expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })] },
    ]);
  });
});
