// The abuse workload's control: an HTTP server in its own process that refuses every request on its
// headers, as tenantgraph refuses an anonymous one, and closes the connection. Sends its URL to the
// parent process.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((_request, response) => {
  response.writeHead(401, { 'content-type': 'application/json', connection: 'close' });
  response.end('{"errors":[{"message":"Authentication required","extensions":{"code":"UNAUTHENTICATED"}}]}');
});
server.listen(0, '127.0.0.1', () => {
  process.send?.(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
});
process.on('disconnect', () => process.exit(0));
