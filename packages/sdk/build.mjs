#!/usr/bin/env node
// Builds the package from the SDK's source (src/sdk/ of the server's repository, where the server
// and its tests use it as it is): compiled JavaScript and types in dist/, and the printed schema
// beside them, so a client app can point its own tooling (codegen, IDE) at the same contract.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

rmSync(join(here, 'dist'), { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
copyFileSync(join(root, 'schema', 'schema.graphql'), join(here, 'schema.graphql'));
