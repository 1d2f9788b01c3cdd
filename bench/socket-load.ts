// Websocket clients for the subscription workload, in their own process (forked with IPC) so they
// do not share the server's event loop.
//   subscribe: `count` SDK clients, each subscribed to taskChanged(projectId) — or one per entry of
//              `subscribers`, each with its own token and project; reports every 50 ms
//              how many events have arrived, how many the slowest subscriber has, and how many
//              subscriptions have ended (which a workload that waits for every event must know).
//   idle:      `count` graphql-transport-ws connections, initialised and acknowledged, doing nothing.
import WebSocket from 'ws';
import { createClient } from '../src/sdk/index.js';

export type SocketJob =
  | { mode: 'subscribe'; url: string; token: string; projectId: string; count: number }
  | { mode: 'subscribe'; url: string; subscribers: { token: string; projectId: string }[] }
  | { mode: 'idle'; url: string; token: string; count: number };

const send = (message: unknown) => process.send?.(message);

process.once('message', async (job: SocketJob) => {
  const closers: (() => unknown)[] = [];
  if (job.mode === 'subscribe') {
    const subscribers =
      'subscribers' in job
        ? job.subscribers
        : Array.from({ length: job.count }, () => ({ token: job.token, projectId: job.projectId }));
    const counts: number[] = subscribers.map(() => 0);
    let connected = 0;
    let ended = 0;
    for (const [i, subscriber] of subscribers.entries()) {
      const client = createClient({ url: job.url, token: subscriber.token, onConnected: () => connected++ });
      client.subscribe(
        'TaskChanged',
        { projectId: subscriber.projectId },
        {
          next: (result) => {
            if (result.ok) counts[i] = (counts[i] ?? 0) + 1;
          },
          complete: () => ended++,
        },
      );
      closers.push(() => client.close());
    }
    while (connected < subscribers.length) await new Promise((resolve) => setTimeout(resolve, 10));
    const timer = setInterval(() => {
      send({ received: counts.reduce((sum, count) => sum + count, 0), slowest: Math.min(...counts), ended });
    }, 50);
    closers.push(() => clearInterval(timer));
  } else {
    const sockets = await Promise.all(
      Array.from({ length: job.count }, () => {
        const socket = new WebSocket(job.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        return new Promise<WebSocket>((resolve, reject) => {
          socket.once('open', () =>
            socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${job.token}` } })),
          );
          socket.once('message', () => resolve(socket));
          socket.once('error', reject);
        });
      }),
    );
    closers.push(() => {
      for (const socket of sockets) socket.close();
    });
  }
  // Give the server a moment to register the last subscriptions before saying so.
  await new Promise((resolve) => setTimeout(resolve, 300));
  send({ ready: true });
  process.once('message', async () => {
    await Promise.all(closers.map((close) => close()));
    process.exit(0);
  });
});
