import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// GraphiQL as a person meets it: a real headless Chromium (Debian's `chromium`; .ci/run installs it)
// opens the page the server serves, with every request that leaves the server refused — so a page
// that needs a CDN stays blank and this fails. The screenshot is left in scratch/ to look at.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'scratch');

let database: TestDatabase;
let server: TestServer;
let tenant: TenantFixture;
let browser: Browser;
let page: Page;
const leftTheServer: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is expected at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`);
  database = await createTestDatabase();
  tenant = await createTenantFixture(database, { slug: 'graphiql', projects: 2, tasksPerProject: 2 });
  server = await startTestServer({ database, graphiqlLogin: { userId: tenant.owner.id, tenant: tenant.slug } });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.setRequestInterception(true);
  const origin = new URL(server.url).origin;
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return void request.continue();
    leftTheServer.push(url);
    void request.abort();
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await database?.destroy();
});

const text = (selector: string) => page.$eval(selector, (element) => element.textContent ?? '').catch(() => '');

describe('GraphiQL in a real browser', () => {
  it('loads from the server alone, lists Query in the docs explorer, and runs the default query with the pre-filled token', async () => {
    await page.goto(server.url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 60_000 });

    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.waitForFunction(
      () => (document.querySelector('.graphiql-doc-explorer') as HTMLElement | null)?.textContent?.includes('Query'),
      { timeout: 30_000 },
    );
    expect(await text('.graphiql-doc-explorer')).toContain('Query');

    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      () => (document.querySelector('.graphiql-response') as HTMLElement | null)?.textContent?.includes('"data"'),
      { timeout: 30_000 },
    );
    // The editor wraps long lines: compare without whitespace.
    const response = (await text('.graphiql-response')).replace(/\s+/g, '');
    expect(response).toContain('"tenant":{"slug":"graphiql"');
    expect(response).toContain('"role":"OWNER"');
    expect(response).not.toContain('"errors"');
    expect(leftTheServer).toEqual([]);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'graphiql.png') });
  });
});
