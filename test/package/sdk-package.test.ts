import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantFixture, type TenantFixture } from '../helpers/fixtures.js';
import { globalId, startTestServer, type TestServer } from '../helpers/test-server.js';

// The SDK as a client app gets it: packed with npm, installed from the tarball into an empty app
// (its dependencies from npm's cache), typechecked against a query, a mutation and a typed
// subscription, and run against a live server.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'packages', 'sdk');
const TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 16 * 1024 * 1024 });

let scratch: string;
let tarball: string;
let packed: string[];
let server: TestServer;
let tenant: TenantFixture;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tenantgraph-sdk-app-'));
  const { stdout } = await npm(['pack', '--json', '--pack-destination', scratch], PACKAGE_DIR);
  const [report] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(scratch, report?.filename ?? '');
  packed = report?.files.map((file) => file.path) ?? [];
  server = await startTestServer();
  tenant = await createTenantFixture(server.database, { slug: 'packaged', projects: 1, tasksPerProject: 1 });
}, 180_000);
afterAll(async () => {
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const APP = `
import { createClient, type ApiErrorCode, type TaskStatus } from '@tenantgraph/sdk';
import WebSocket from 'ws';

const [url, token, projectId] = process.argv.slice(2) as [string, string, string];
const client = createClient({ url, token, webSocketImpl: WebSocket });
const out: Record<string, unknown> = {};

const viewer = await client.sdk.Viewer();
if (!viewer.ok) throw new Error(viewer.error.code);
const slug: string = viewer.data.viewer.tenant.slug;
out.slug = slug;

const events = client.subscribe('TaskChanged', { projectId });
await new Promise((resolve) => setTimeout(resolve, 300));

const created = await client.sdk.CreateTask({ input: { projectId, title: 'From a packaged app' } });
if (!created.ok) throw new Error(created.error.code);
const status: TaskStatus = created.data.createTask.status;
out.created = { title: created.data.createTask.title, status };

for await (const event of events) {
  if (!event.ok) {
    const code: ApiErrorCode = event.error.code;
    throw new Error(code);
  }
  const kind: 'CREATED' | 'UPDATED' | 'DELETED' = event.data.taskChanged.kind;
  out.event = { kind, title: event.data.taskChanged.task?.title };
  break;
}

// @ts-expect-error: a subscription's variables are typed by its operation.
client.subscribe('TaskChanged', { projectID: projectId }).unsubscribe();
// @ts-expect-error: so are a query's.
void client.sdk.Projects({ first: 'ten' });

await client.close();
console.log(JSON.stringify(out));
`;

describe('the SDK package', () => {
  it('ships compiled JavaScript, its types and the printed schema, and nothing of the server', () => {
    expect(packed).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/generated.d.ts', 'schema.graphql']));
    expect(packed.filter((file) => !file.startsWith('dist/') && file !== 'schema.graphql' && file !== 'package.json')).toEqual(
      [],
    );
  });

  it('installs from its tarball into an empty app, typechecks a query, a mutation and a typed subscription, and runs them', async () => {
    await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
    // ws: Node 20 has no global WebSocket (browsers and Node 22 do); the SDK takes it as an optional peer.
    await npm(['install', '--prefer-offline', tarball, 'ws', '@types/ws', '@types/node@20'], scratch);
    const installed = await readdir(join(scratch, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['@tenantgraph', 'graphql', 'graphql-request', 'graphql-ws']));
    for (const serverOnly of ['@prisma', 'graphql-yoga', '@pothos', 'pg', '@electric-sql']) {
      expect(installed, serverOnly).not.toContain(serverOnly);
    }
    expect(existsSync(join(scratch, 'node_modules', '@tenantgraph', 'sdk', 'schema.graphql'))).toBe(true);

    await writeFile(join(scratch, 'app.ts'), APP);
    await writeFile(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: ['node'],
          outDir: 'out',
        },
        files: ['app.ts'],
      }),
    );
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: scratch });

    const projectId = globalId('Project', tenant.projectIds[0] ?? '');
    const token = await server.token(tenant.member.id, tenant.slug);
    const { stdout } = await run(process.execPath, ['out/app.js', server.url, token, projectId], {
      cwd: scratch,
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual({
      slug: 'packaged',
      created: { title: 'From a packaged app', status: 'TODO' },
      event: { kind: 'CREATED', title: 'From a packaged app' },
    });
  });
});
