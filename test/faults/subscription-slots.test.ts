import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { removeMember } from '../../src/admin/tenant-admin.js';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { connectRaw, type RawProtocolClient, type ServerMessage } from '../helpers/raw-protocol-client.js';
import { waitFor } from '../helpers/subscriber.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// A tenant's subscription slots must always equal its live subscriptions. If ending one ever
// forgot to give its slot back, any member could lock the whole tenant out until a restart.

const PER_TENANT = 5;
const PROJECT_CHANGED = 'subscription { projectChanged { kind projectId } }';

let server: TestServer;
let tenant: TenantFixture;

beforeAll(async () => {
  server = await startTestServer({
    environment: {
      SUBSCRIPTIONS_PER_TENANT: String(PER_TENANT),
      SUBSCRIPTION_BUFFER: '2',
      SUBSCRIPTION_RECHECK_MS: '100',
    },
  });
});
afterAll(() => server?.close());
// A tenant of its own per test: one test's leak cannot fail the next.
beforeEach(async () => {
  tenant = await createTenantFixture(server.database, { projects: 1, tasksPerProject: 0 });
});

const viewer = async () => connectRaw(server.url, await server.token(tenant.viewer.id, tenant.slug));
const publish = () =>
  server.app.pubsub.publish({ type: 'project', tenantId: tenant.id, projectId: tenant.projectIds[0] ?? '', kind: 'UPDATED' });
/** The error code a message carries: an `error` message, or a `next` whose result has errors (how SUBSCRIBER_TOO_SLOW ends). */
const codesOf = (message: ServerMessage) => {
  const errors = message.type === 'error' ? message.payload : (message.payload as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.map((error: { extensions?: { code?: string } }) => error.extensions?.code) : [];
};
const hasError = (client: RawProtocolClient, id: string, code?: string) =>
  client.messagesFor(id).some((message) => codesOf(message).some((found) => !code || found === code));
const hasNext = (client: RawProtocolClient, id: string) =>
  client.messagesFor(id).some((message) => message.type === 'next' && codesOf(message).length === 0);

/**
 * Opens one more subscription than the limit on a fresh socket, and publishes until each is either
 * running (it got the event) or refused: answers how many run and how many were refused.
 */
async function openAsManyAsAllowed(): Promise<{ running: number; refused: number }> {
  const client = await viewer();
  const ids = Array.from({ length: PER_TENANT + 1 }, (_, index) => `probe-${index}`);
  for (const id of ids) client.subscribe(id, PROJECT_CHANGED);
  const deadline = Date.now() + 5_000;
  while (!ids.every((id) => hasNext(client, id) || hasError(client, id))) {
    if (Date.now() > deadline) throw new Error('some probe neither ran nor was refused');
    publish();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const counts = {
    running: ids.filter((id) => hasNext(client, id)).length,
    refused: ids.filter((id) => hasError(client, id, 'RATE_LIMITED')).length,
  };
  await client.close();
  return counts;
}

/** Waits until the tenant can open exactly PER_TENANT again (slots come back asynchronously). */
async function expectAllSlotsFree() {
  const deadline = Date.now() + 5_000;
  let counts = await openAsManyAsAllowed();
  while (counts.running !== PER_TENANT && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    counts = await openAsManyAsAllowed();
  }
  expect(counts).toEqual({ running: PER_TENANT, refused: 1 });
}

/** Subscribes and completes one id ten times back to back, subscribes it once more, and closes the socket. */
async function resubscribeTheSameIdThenClose() {
  const client = await viewer();
  for (let round = 0; round < 10; round++) {
    client.subscribe('1', PROJECT_CHANGED);
    client.complete('1');
  }
  client.subscribe('1', PROJECT_CHANGED);
  await runs(client, '1');
  await client.close();
}

/** Ten times: subscribes an id, waits for it to run, completes it. The socket stays open. */
async function runCompleteAndResubscribe(): Promise<RawProtocolClient> {
  const client = await viewer();
  for (let round = 0; round < 10; round++) {
    client.subscribe('same', PROJECT_CHANGED);
    await waitFor(
      () => {
        publish();
        return client.messagesFor('same').filter((message) => message.type === 'next').length > round;
      },
      5_000,
      `round ${round} to run`,
    );
    client.complete('same');
  }
  return client;
}

/** Completes ten subscriptions right after subscribing them, and closes a socket whose four are being set up. */
async function endDuringSetup(): Promise<RawProtocolClient> {
  const racing = await viewer();
  for (let round = 0; round < 10; round++) {
    racing.subscribe(`race-${round}`, PROJECT_CHANGED);
    racing.complete(`race-${round}`);
  }
  const closing = await viewer();
  for (let round = 0; round < 4; round++) closing.subscribe(`closing-${round}`, PROJECT_CHANGED);
  await closing.close();
  return racing;
}

/** A subscription ended with SUBSCRIBER_TOO_SLOW, and a member's two ended by revoking the membership. */
async function endFromTheServer(): Promise<RawProtocolClient> {
  const slow = await viewer();
  slow.subscribe('slow', PROJECT_CHANGED);
  await runs(slow, 'slow');
  for (let event = 0; event < 20; event++) publish();
  await waitFor(() => hasError(slow, 'slow', 'SUBSCRIBER_TOO_SLOW'), 5_000, 'SUBSCRIBER_TOO_SLOW');

  const member = await connectRaw(server.url, await server.token(tenant.member.id, tenant.slug));
  member.subscribe('m1', PROJECT_CHANGED);
  member.subscribe('m2', PROJECT_CHANGED);
  await runs(member, 'm1');
  await runs(member, 'm2');
  await removeMember(server.database.prisma, tenant.member.email, tenant.slug);
  server.app.registry.invalidateMembership(tenant.id, tenant.member.id);
  expect(await member.closed()).toBe(4403);
  return slow;
}

async function runs(client: RawProtocolClient, id: string) {
  await waitFor(
    () => {
      publish();
      return hasNext(client, id);
    },
    5_000,
    `subscription ${id} to run`,
  );
}

describe('subscription slots', () => {
  it('a tenant can open exactly SUBSCRIPTIONS_PER_TENANT subscriptions', async () => {
    await expectAllSlotsFree();
  });

  it('completing and resubscribing with the same id, ten times, then closing the socket, leaves every slot free', async () => {
    await resubscribeTheSameIdThenClose();
    await expectAllSlotsFree();
  });

  it('running, completing and resubscribing with the same id, ten times over, then completing, leaves every slot free', async () => {
    const client = await runCompleteAndResubscribe();
    await expectAllSlotsFree();
    await client.close();
  });

  it('a complete racing the subscribe setup, and a socket closed during setup, leave every slot free', async () => {
    const client = await endDuringSetup();
    await expectAllSlotsFree();
    await client.close();
  });

  it('subscriptions the server ends (SUBSCRIBER_TOO_SLOW, revocation) give their slots back', async () => {
    const client = await endFromTheServer();
    await expectAllSlotsFree();
    await client.close();
  });

  it('after all of that, on one tenant, it can again open exactly SUBSCRIPTIONS_PER_TENANT subscriptions', async () => {
    await resubscribeTheSameIdThenClose();
    const open = [await runCompleteAndResubscribe(), await endDuringSetup(), await endFromTheServer()];
    await expectAllSlotsFree();
    await Promise.all(open.map((client) => client.close()));
  });
});
