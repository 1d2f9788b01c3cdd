import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue } from '../../src/observability/metrics.js';
import { capturedLogs } from '../helpers/captured-logs.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// An anonymous POST is refused in the HTTP listener, before Yoga (src/plugins/anonymous-refusal.ts);
// a request with an Authorization header that is not a bearer token is refused by
// useAuthenticateFirst inside Yoga. A client must not be able to tell the two apart.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
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
          resolve({ status: response.statusCode ?? 0, headers: rest, body: text });
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
    expect(
      (await post(listed.url, { origin: 'https://elsewhere.example' })).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });

  it('keeps the connection when there is no body to leave unread, as Yoga does', async () => {
    const { anonymous, basic } = await bothWays(listed.url, { 'x-request-id': 'empty' }, '');
    expect(anonymous).toEqual(basic);
    expect(anonymous.headers.connection).not.toBe('close');
  });

  it('is logged and counted as any refused caller, with the request id and why', async () => {
    const before = counterValue('tenant_resolution_failed');
    const answer = await post(listed.url, { 'x-request-id': 'anonymous-logged' });
    expect(answer.status).toBe(401);
    expect(counterValue('tenant_resolution_failed')).toBe(before + 1);
    expect(lines.find((line) => line.requestId === 'anonymous-logged')).toMatchObject({
      level: 40, // warn
      msg: 'caller rejected by tenant resolution',
      status: 401,
      reason: 'no bearer token',
    });
  });

  it('runs no SQL and parses nothing', async () => {
    const before = listed.database.statements.length;
    const answer = await post(listed.url, {}, '{ this is not even JSON');
    expect(answer.status).toBe(401);
    expect(listed.database.statements.length).toBe(before);
  });
});
