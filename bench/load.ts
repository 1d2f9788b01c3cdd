// The load generator, run as its own process so it does not share the server's event loop.
// Reads one job (a JSON file named in argv), drives it with autocannon, prints the result as JSON.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  durationSeconds: number;
  connections: number;
  /** Request bodies and bearer tokens, used round-robin. */
  requests: { body: string; token: string }[];
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const job = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadJob;
let next = 0;
const result = await autocannon({
  url: job.url,
  method: 'POST',
  connections: job.connections,
  duration: job.durationSeconds,
  headers: { 'content-type': 'application/json' },
  requests: [
    {
      setupRequest: (request) => {
        const pick = job.requests[next++ % job.requests.length] as LoadJob['requests'][number];
        return { ...request, body: pick.body, headers: { ...request.headers, authorization: `Bearer ${pick.token}` } };
      },
    },
  ],
});
const summary: LoadResult = {
  requests: result.requests.total,
  requestsPerSecond: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  errors: result.errors,
  non2xx: result.non2xx,
};
process.stdout.write(JSON.stringify(summary));
