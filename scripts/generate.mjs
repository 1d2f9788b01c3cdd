#!/usr/bin/env node
// Generates the Prisma client and the Pothos types without network access.
//
// `prisma generate` only needs Prisma's bundled WebAssembly, but the CLI first looks for its native
// schema-engine binary and tries to download it, which fails offline. Pointing
// PRISMA_SCHEMA_ENGINE_BINARY at a stub that refuses to run satisfies that look-up; nothing here
// ever runs the schema engine (migrations are plain SQL applied by src/db/migrator.ts).
//
//   node scripts/generate.mjs            generate
//   node scripts/generate.mjs --if-stale generate only when the schema is newer than the output
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = join(root, 'prisma', 'schema.prisma');
const output = join(root, 'src', 'generated', 'pothos-types.ts');

if (process.argv.includes('--if-stale') && existsSync(output) && statSync(output).mtimeMs >= statSync(schema).mtimeMs) {
  process.exit(0);
}

const prismaCli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(root, 'scripts', 'no-schema-engine.sh'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
