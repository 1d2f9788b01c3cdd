// The abuse workload's anonymous attacker, run as its own process: on each of `connections`
// sockets in turn, a POST with no token declaring a `bytes`-long body, then the body, until the
// server answers and closes; again until `seconds` have passed. Prints what it sent as JSON.
//
// It writes one body buffer made once, so a request costs this process a syscall or two and not the
// 16 MB string building a general load generator does per request (autocannon did: on these 2 cores
// that work was counted against the server it attacked). What the server pays — accepting,
// reading the headers, refusing, closing with the body unread — is the same.
import { connect } from 'node:net';

const [url = '', seconds = '3', connections = '2', bytes = String(16 * 1024 * 1024)] = process.argv.slice(2);
const { hostname, port, pathname } = new URL(url);
const size = Number(bytes);
const document = '{"query":"{ viewer { role } }';
const body = Buffer.alloc(size, 0x20);
body.write(document, 0, 'latin1');
body.write('"}', size - 2, 'latin1');
const head = Buffer.from(
  `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
  'latin1',
);

const deadline = Date.now() + Number(seconds) * 1000;
let sent = 0;
let answered = 0;

/** One request: resolves when the server has closed the connection (or it failed). */
function once(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      if (first && chunk.toString('latin1', 0, 9) === 'HTTP/1.1 ') answered++;
      first = false;
    });
    // The server closes with the body unread: the write fails (EPIPE, ECONNRESET), as it should.
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.write(head);
    socket.end(body);
    sent++;
  });
}

await Promise.all(
  Array.from({ length: Number(connections) }, async () => {
    while (Date.now() < deadline) await once();
  }),
);
process.stdout.write(JSON.stringify({ sent, answered }));
