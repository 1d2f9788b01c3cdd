import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the module at `moduleUrl` on a worker thread. Compiled JavaScript runs as is; TypeScript
 * (`npm start`, the tests) first registers tsx in the worker, since a worker does not inherit the
 * loader hooks its parent runs under.
 */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** The sibling module `name` (no extension) in the form this one runs as: `.ts` from source, `.js` compiled. */
export function siblingModule(name: string, of: string): URL {
  const extension = new URL(of).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, of);
}
