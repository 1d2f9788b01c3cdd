import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue } from '../../src/observability/metrics.js';
import { ANONYMOUS_WAIT_MS, PROMPT_ANONYMOUS_PER_SECOND } from '../../src/plugins/anonymous-refusal.js';
import { capturedLogs } from '../helpers/captured-logs.js';
import { waitFor } from '../helpers/subscriber.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// An anonymous POST is refused in the HTTP listener, before Yoga (src/plugins/anonymous-refusal.ts);
// a request with an Authorization header that is not a bearer token is refused by
// useAuthenticateFirst inside Yoga. A client must not be able to tell the two apart.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The headers' names as sent, in order: the order too must not tell the two refusals apart. */
  order: string[];
  body: string;
}

function post(url: string, headers: Record<string, string>, body = '{"query":"{ viewer { role } }"}'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          const { date: _date, ...rest } = response.headers;
          const names = response.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
          resolve({
            status: response.statusCode ?? 0,
            headers: rest,
            order: names.filter((name) => name !== 'date'),
            body: text,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The same request twice: with no Authorization (refused before Yoga) and with a Basic one (refused in Yoga). */
async function bothWays(url: string, headers: Record<string, string>, body?: string) {
  const anonymous = await post(url, headers, body);
  const basic = await post(url, { ...headers, authorization: 'Basic dXNlcjpwYXNz' }, body);
  return { anonymous, basic };
}

const { logger, lines } = capturedLogs();
let listed: TestServer;
let anyOrigin: TestServer;

beforeAll(async () => {
  [listed, anyOrigin] = await Promise.all([
    startTestServer({ logger, environment: { CORS_ORIGINS: 'https://app.example' } }),
    startTestServer({ environment: { CORS_ORIGINS: '*' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([listed?.close(), anyOrigin?.close()]);
});

describe('an anonymous POST, refused before Yoga', () => {
  it('is answered exactly as a refused token is: status, body and every header, CORS included', async () => {
    const cases: [TestServer, Record<string, string>][] = [
      [listed, {}],
      [listed, { origin: 'https://app.example' }],
      [listed, { origin: 'https://elsewhere.example' }],
      [
        listed,
        { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-a' },
      ],
      [anyOrigin, { origin: 'https://any.example' }],
      [anyOrigin, { origin: 'https://any.example', 'access-control-request-headers': 'x-tenant-id' }],
      [anyOrigin, {}],
    ];
    for (const [server, headers] of cases) {
      const { anonymous, basic } = await bothWays(server.url, { 'x-request-id': 'same-id', ...headers });
      expect(anonymous, JSON.stringify(headers)).toEqual(basic);
      expect(anonymous.status).toBe(401);
      expect(JSON.parse(anonymous.body)).toEqual({
        errors: [{ message: 'Authentication required', extensions: { code: 'UNAUTHENTICATED' } }],
      });
      expect(anonymous.headers['x-request-id']).toBe('same-id');
      expect(anonymous.headers.connection).toBe('close');
    }
    // The allowed origin may read the answer; another may not.
    const allowed = await post(listed.url, { origin: 'https://app.example' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    // A shared cache must key on the origin too, as well as on who asks.
    expect((await post(anyOrigin.url, { origin: 'https://any.example' })).headers.vary).toBe(
      'Origin, Authorization, X-Tenant-ID',
    );
    expect(
      (await post(listed.url, { origin: 'https://elsewhere.example' })).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });

  it('keeps the connection when there is no body to leave unread, as Yoga does', async () => {
    const { anonymous, basic } = await bothWays(listed.url, { 'x-request-id': 'empty' }, '');
    expect(anonymous).toEqual(basic);
    expect(anonymous.headers.connection).not.toBe('close');
  });

  it('is counted one by one, and logged as any refused caller — then, for the rest of that second, in one line', async () => {
    // Past the quiet second of this file's earlier refusals.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = counterValue('tenant_resolution_failed');
    const linesBefore = lines.length;
    const started = Date.now();
    expect((await post(listed.url, { 'x-request-id': 'anonymous-logged' })).status).toBe(401);
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => post(listed.url, { 'x-request-id': `flood-${i}` })));
    const seconds = Math.ceil((Date.now() - started) / 1_000);
    expect(flood.map((answer) => answer.status)).toEqual(flood.map(() => 401));
    expect(counterValue('tenant_resolution_failed')).toBe(before + 31);
    expect(lines.find((line) => line.requestId === 'anonymous-logged')).toMatchObject({
      level: 40, // warn
      msg: 'caller rejected by tenant resolution',
      status: 401,
      reason: 'no bearer token',
    });
    // Every refusal is in the log, one by one or in a second's summary; at most one a second one by one
    // (on a quick machine, all 30 in one summary).
    const since = () => lines.slice(linesBefore);
    const summaries = () => since().filter((line) => line.msg === 'callers rejected by tenant resolution, not logged one by one');
    const oneByOne = () => since().filter((line) => String(line.requestId).startsWith('flood-'));
    const summed = () => summaries().reduce((sum, line) => sum + Number(line.count), 0);
    await waitFor(() => summed() + oneByOne().length === 30, 3_000, 'every refusal to be in the log');
    expect(oneByOne().length).toBeLessThanOrEqual(seconds);
    expect(summaries()[0]).toMatchObject({ level: 40, reason: 'no bearer token', withinMs: 1_000 });
    expect(summaries().length).toBeLessThanOrEqual(seconds);
  });

  it('answers a few a second at once, and the rest a moment later — all the same answer', async () => {
    const timed = async (i: number) => {
      const started = performance.now();
      const answer = await post(listed.url, { 'x-request-id': `paced-${i}` });
      return { answer, ms: performance.now() - started };
    };
    const results = await Promise.all(Array.from({ length: 3 * PROMPT_ANONYMOUS_PER_SECOND }, (_, i) => timed(i)));
    for (const { answer } of results) {
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    // However the burst falls across a second's turn, at most two seconds' prompt answers came at once.
    const waited = results.filter(({ ms }) => ms >= ANONYMOUS_WAIT_MS);
    expect(waited.length).toBeGreaterThanOrEqual(PROMPT_ANONYMOUS_PER_SECOND);
  });

  it('runs no SQL and parses nothing', async () => {
    const before = listed.database.statements.length;
    const answer = await post(listed.url, {}, '{ this is not even JSON');
    expect(answer.status).toBe(401);
    expect(listed.database.statements.length).toBe(before);
  });
});
