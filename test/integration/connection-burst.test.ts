import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// Every client reconnecting at once (after a deploy, a network blip) arrives while the server is
// busy. The kernel holds the connections it has accepted for the server in a queue as long as the
// listen backlog; past it, it drops them and each client retries a second or more later. Worse, a
// client whose handshake completed but whose request was dropped can be accepted long before its
// request arrives, and Node's headersTimeout counts from the accept: the server answers 408 and
// resets it (seen in CI as ECONNRESET in many-tenants.test.ts, under Node's default backlog of 511).
// The server accepts one connection per turn of its event loop, so a busy server drains it slowly.

const BURST = Math.min(1_500, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));

let server: TestServer;
let scratch: string;
beforeAll(async () => {
  server = await startTestServer();
  scratch = mkdtempSync(join(tmpdir(), 'burst-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** How many connections wait in the accept queue of the IPv4 socket listening on `port` (procfs: rx_queue of a LISTEN row). */
function acceptQueueLength(port: string): number {
  const localAddress = `0100007F:${Number(port).toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state, queues] = line.trim().split(/\s+/);
    if (local === localAddress && state === '0A') return Number.parseInt(queues?.split(':')[1] ?? '', 16);
  }
  throw new Error(`no socket listening on 127.0.0.1:${port}`);
}

/** Opens `count` connections at once, each sending an anonymous request; reports each answer's status line. */
const CLIENT = `
const net = require('node:net');
const fs = require('node:fs');
const [port, count, signal] = process.argv.slice(1);
const statuses = {};
let done = 0;
let connected = 0;
// Signalled once every handshake is through (the kernel completes them while the server is busy),
// or after 5 s: a connection the kernel dropped is retried only a second or more later.
const signalled = () => fs.writeFileSync(signal, 'issued');
const late = setTimeout(signalled, 5000);
for (let i = 0; i < Number(count); i++) {
  const socket = net.connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('connect', () => {
    socket.write('POST /graphql HTTP/1.1\\r\\nhost: burst\\r\\ncontent-type: application/json\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\n{}');
    if (++connected === Number(count)) { clearTimeout(late); signalled(); }
  });
  socket.on('data', (chunk) => { answer += chunk; });
  socket.on('error', (error) => { answer = error.code; });
  socket.on('close', () => {
    const status = answer.split('\\r\\n', 1)[0];
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (++done === Number(count)) { console.log(JSON.stringify(statuses)); process.exit(0); }
  });
}
`;

describe('a burst of new connections while the server is busy', () => {
  it('waits in the accept queue, none dropped to retry later, every one answered', async () => {
    const signal = join(scratch, 'issued');
    const port = new URL(server.url).port;
    const client = spawn(process.execPath, ['-e', CLIENT, port, String(BURST), signal], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    client.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<void>((resolve) => client.on('exit', () => resolve()));

    // The server's event loop is busy (this test blocks it, as one heavy tick would) until every
    // connection has been made.
    const deadline = Date.now() + 30_000;
    let issued = false;
    while (!issued && Date.now() < deadline) {
      try {
        issued = readFileSync(signal, 'utf8') === 'issued';
      } catch {}
    }
    expect(issued).toBe(true);
    // What the kernel holds for the server now: every connection of the burst, none dropped.
    expect(acceptQueueLength(port)).toBe(BURST);

    await exited;
    expect(JSON.parse(output)).toEqual({ 'HTTP/1.1 401 Unauthorized': BURST });
  }, 60_000);
});
