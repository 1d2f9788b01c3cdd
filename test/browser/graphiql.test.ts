import { existsSync, mkdirSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// GraphiQL as a person meets it: a real headless Chromium (Debian's `chromium`; .ci/run installs it)
// opens the page the server serves, with every request that leaves the server refused — so a page
// that needs a CDN stays blank and this fails. The screenshots are left in scratch/ to look at.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'scratch');
const STRICT_CSP = "default-src 'self'";

let database: TestDatabase;
let server: TestServer;
let tenant: TenantFixture;
let browser: Browser;
let strictProxy: Server;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is expected at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`);
  database = await createTestDatabase();
  tenant = await createTenantFixture(database, { slug: 'graphiql', projects: 2, tasksPerProject: 2 });
  server = await startTestServer({ database, graphiqlLogin: { userId: tenant.owner.id, tenant: tenant.slug } });
  strictProxy = await startCspProxy(new URL(server.url), STRICT_CSP);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (strictProxy ? strictProxy.close(resolve) : resolve(undefined)));
  await server?.close();
  await database?.destroy();
});

/**
 * A reverse proxy in front of the server that adds `Content-Security-Policy: <policy>` to every
 * response, as a strict deployment's proxy does (the server's own policy still applies: both must
 * allow a load).
 */
async function startCspProxy(target: URL, policy: string): Promise<Server> {
  const proxy = createServer((incoming, outgoing) => {
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-security-policy': policy });
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}

interface Opened {
  page: Page;
  /** Requests that left the origin (refused). */
  leftTheOrigin: string[];
  /** Content-Security-Policy violations the page reported (directive and blocked URL). */
  violations: () => Promise<string[]>;
}

async function openGraphiQL(url: string): Promise<Opened> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.setRequestInterception(true);
  const origin = new URL(url).origin;
  const leftTheOrigin: string[] = [];
  page.on('request', (request) => {
    const requested = request.url();
    if (requested.startsWith(origin) || requested.startsWith('blob:') || requested.startsWith('data:'))
      return void request.continue();
    leftTheOrigin.push(requested);
    void request.abort();
  });
  await page.evaluateOnNewDocument(() => {
    const seen: string[] = [];
    (globalThis as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} ${event.blockedURI}`));
  });
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return {
    page,
    leftTheOrigin,
    violations: () => page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations),
  };
}

const text = (page: Page, selector: string) => page.$eval(selector, (element) => element.textContent ?? '').catch(() => '');

/** The docs explorer lists Query and the default query runs with the pre-filled token. */
async function expectWorkingGraphiQL({ page, leftTheOrigin }: Opened, screenshot: string) {
  await page.waitForSelector('.graphiql-execute-button', { timeout: 60_000 });

  await page.click('button[aria-label="Show Documentation Explorer"]');
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-doc-explorer') as HTMLElement | null)?.textContent?.includes('Query'),
    { timeout: 30_000 },
  );
  expect(await text(page, '.graphiql-doc-explorer')).toContain('Query');

  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-response') as HTMLElement | null)?.textContent?.includes('"data"'),
    { timeout: 30_000 },
  );
  // The editor wraps long lines: compare without whitespace.
  const response = (await text(page, '.graphiql-response')).replace(/\s+/g, '');
  expect(response).toContain('"tenant":{"slug":"graphiql"');
  expect(response).toContain('"role":"OWNER"');
  expect(response).not.toContain('"errors"');
  expect(leftTheOrigin).toEqual([]);

  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, screenshot) });
}

/**
 * Nothing the page needs was refused. Chromium reports each (empty) `<style>` element the editor
 * inserts, whose rules go to a sheet the document adopts instead, and, under a policy without
 * `img-src data:`, the editor's wavy underline under an error (a data: image; the error itself is
 * shown). The editor's lines are positioned (not piled up at the top, as when their `style`
 * attributes are refused) and coloured.
 */
async function expectNothingRefused({ page, violations }: Opened, reported: string[]) {
  expect([...new Set(await violations())].sort()).toEqual(reported);
  const styles = await page.evaluate(() => ({
    withText: [...document.querySelectorAll('style')].filter((style) => style.childNodes.length > 0).length,
    adoptedRules: document.adoptedStyleSheets.reduce((rules, sheet) => rules + sheet.cssRules.length, 0),
    lineTops: [...document.querySelectorAll('.graphiql-response .view-line')].map((line) => getComputedStyle(line).top),
  }));
  expect(styles.withText).toBe(0);
  expect(styles.adoptedRules).toBeGreaterThan(100);
  expect(styles.lineTops.length).toBeGreaterThan(5);
  expect(new Set(styles.lineTops).size).toBe(styles.lineTops.length);
}

/** The editor's GraphQL worker (a same-origin file) validates what is typed against the schema. */
async function expectValidationWhileTyping(page: Page) {
  const editor = await page.$eval('.graphiql-query-editor', (element) => {
    const { x, y } = element.getBoundingClientRect();
    return { x, y };
  });
  await page.mouse.click(editor.x + 120, editor.y + 40);
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.type('{ viewer { nope } }');
  await page.waitForSelector('.graphiql-query-editor .squiggly-error', { timeout: 30_000 });
}

describe('GraphiQL in a real browser', () => {
  it('loads from the server alone, lists Query in the docs explorer, and runs the default query with the pre-filled token', async () => {
    const opened = await openGraphiQL(server.url);
    await expectWorkingGraphiQL(opened, 'graphiql.png');
    await expectValidationWhileTyping(opened.page);
    await expectNothingRefused(opened, ['style-src-elem inline']);
    await opened.page.close();
  }, 120_000);

  it(`works behind a proxy that adds "Content-Security-Policy: ${STRICT_CSP}" to every response`, async () => {
    const proxied = new URL(server.url);
    proxied.port = String((strictProxy.address() as AddressInfo).port);
    const opened = await openGraphiQL(proxied.href);
    await expectWorkingGraphiQL(opened, 'graphiql-strict-csp.png');
    await expectValidationWhileTyping(opened.page);
    await expectNothingRefused(opened, ['img-src data', 'style-src-elem inline']);
    await opened.page.close();
  }, 120_000);
});
