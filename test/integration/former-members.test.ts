import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeMember } from '../../src/admin/tenant-admin.js';
import { createClient } from '../../src/sdk/index.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { dataOf } from '../helpers/results.js';
import { subscribe } from '../helpers/subscriber.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// A user is visible to a tenant only while they are its member. Comments outlive their author's
// membership: they must keep rendering, with the author hidden, and nothing around them may break.

let server: TestServer;
let a: TenantFixture;
let ownerToken: string;
/** The comment the member wrote before leaving, as a global id. */
let leftComment: string;

beforeAll(async () => {
  server = await startTestServer();
  a = await createTenantFixture(server.database, { slug: 'former', projects: 1, tasksPerProject: 2 });
  ownerToken = await server.token(a.owner.id, a.slug);
  const member = createClient({ url: server.url, token: await server.token(a.member.id, a.slug) }).sdk;
  const added = await member.AddComment({ input: { taskId: globalId('Task', a.taskIds[0] ?? ''), body: 'written, then left' } });
  leftComment = dataOf(added).addComment.id;
  // As the CLI does it: the admin change, then the registry told of that membership.
  await removeMember(server.database.prisma, a.member.email, a.slug);
  server.app.registry.invalidateMembership(a.id, a.member.id);
});
afterAll(() => server?.close());

interface CommentNode {
  body: string;
  author: { email: string } | null;
}

describe('comments of a former member', () => {
  it('render with author null in a task, the other comments and the task intact', async () => {
    const { body } = await server.request<{
      task: { title: string; comments: { totalCount: number; edges: { node: CommentNode }[] } };
    }>(
      'query($id: ID!) { task(id: $id) { title comments(first: 10) { totalCount edges { node { body author { email } } } } } }',
      {
        token: ownerToken,
        variables: { id: globalId('Task', a.taskIds[0] ?? '') },
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.task).toEqual({
      title: 'former task 0.0',
      comments: {
        totalCount: 2,
        edges: [
          { node: { body: 'former comment on 0.0', author: { email: a.owner.email } } },
          { node: { body: 'written, then left', author: null } },
        ],
      },
    });
  });

  it('leave a list of tasks whole, and node(id) of the comment answers it with author null', async () => {
    const { body } = await server.request<{
      tasks: { edges: { node: { title: string; comments: { edges: { node: CommentNode }[] } } }[] };
      node: CommentNode | null;
    }>(
      `query($comment: ID!) {
        tasks(first: 10) { edges { node { title comments(first: 10) { edges { node { body author { email } } } } } } }
        node(id: $comment) { ... on Comment { body author { email } } }
      }`,
      { token: ownerToken, variables: { comment: leftComment } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.tasks.edges.map((edge) => edge.node.title)).toEqual(['former task 0.0', 'former task 0.1']);
    expect(body.data?.tasks.edges[0]?.node.comments.edges.map((edge) => edge.node.author)).toEqual([
      { email: a.owner.email },
      null,
    ]);
    expect(body.data?.node).toEqual({ body: 'written, then left', author: null });
  });

  it('reach a commentAdded subscriber with author null', async () => {
    const taskId = globalId('Task', a.taskIds[0] ?? '');
    const subscriber = subscribe(server.url, ownerToken, 'CommentAdded', { taskId });
    await subscriber.connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The event of a comment whose author left before it was delivered.
    const comment = await server.database.prisma.comment.findFirstOrThrow({ where: { authorId: a.member.id } });
    server.app.pubsub.publish({ type: 'comment', tenantId: a.id, taskId: a.taskIds[0] ?? '', commentId: comment.id });
    await subscriber.received(1);
    expect(subscriber.messages).toEqual([
      {
        ok: true,
        data: { commentAdded: expect.objectContaining({ id: leftComment, body: 'written, then left', author: null }) },
      },
    ]);
    await subscriber.dispose();
  });
});
