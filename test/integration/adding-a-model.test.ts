import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStep, readWalkthrough, type WalkthroughStep } from '../helpers/walkthrough.js';

// docs/adding-a-model.md, run: its steps applied to a scratch copy of the repository (node_modules
// shared through a link), then the isolation tests — which know nothing of labels — run there. They
// pass; and without the walkthrough's row-level security they fail, naming the table.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LEFT_OUT = new Set(['node_modules', '.git', '.data', 'dist', 'coverage']);
const CHECKS = [
  'test/integration/labels.test.ts',
  'test/integration/rls-backstop.test.ts',
  'test/integration/isolation-check.test.ts',
  'test/integration/schema-drift.test.ts',
  'test/unit/sdk/contract.test.ts',
];

let scratch: string;
let steps: WalkthroughStep[];

beforeAll(async () => {
  steps = await readWalkthrough(join(ROOT, 'docs/adding-a-model.md'));
  scratch = await mkdtemp(join(tmpdir(), 'tenantgraph-model-'));
  await cp(ROOT, scratch, {
    recursive: true,
    filter: (source) => !LEFT_OUT.has(relative(ROOT, source).split(sep)[0] ?? ''),
  });
  await symlink(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs `command` in the scratch copy; resolves with its exit code and everything it printed. */
async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  // The outer vitest's own variables would make the inner one think it is a worker.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const child = spawn(command, args, { cwd: scratch, env: { ...env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number, output };
}

const vitest = (...args: string[]) =>
  run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=verbose', ...args]);

describe('docs/adding-a-model.md', () => {
  it('has steps for the model, its migration and RLS, the schema, the operations and the regeneration', () => {
    expect(steps.filter((step) => step.mode !== 'run').map((step) => step.file)).toEqual(
      expect.arrayContaining([
        'prisma/schema.prisma',
        'prisma/migrations/20261215000000_labels/migration.sql',
        'src/schema/label/label.type.ts',
        'src/schema/label/label.mutations.ts',
        'src/schema/index.ts',
        'schema/operations/labels.graphql',
        'test/integration/labels.test.ts',
      ]),
    );
    expect(steps.filter((step) => step.rls)).toHaveLength(1);
    expect(steps.filter((step) => step.mode === 'run').map((step) => step.body.trim())).toEqual([
      'npm run generate',
      'npm run codegen',
    ]);
  });

  // Generation and a second vitest take a while on a loaded 2-core machine: the phases are printed.
  it('applied to a scratch copy, gives a model the isolation tests check without a test written for it', {
    timeout: 300_000,
  }, async () => {
    const started = performance.now();
    const phases: string[] = [];
    const lap = (what: string) => phases.push(`${what} ${Math.round(performance.now() - started)} ms`);
    for (const step of steps) {
      if (step.mode !== 'run') await applyStep(scratch, step);
      else {
        const result = await run('bash', ['-euo', 'pipefail', '-c', step.body]);
        expect(result.code, `${step.body}\n${result.output}`).toBe(0);
        lap(step.body.trim());
      }
    }
    // The page's code as the project's linter wants it (cheap; the typecheck is left to the page's step 7).
    const touched = [...new Set(steps.flatMap((step) => (step.file?.endsWith('.ts') ? [step.file] : [])))];
    const lint = await run(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'check', ...touched]);
    expect(lint.code, lint.output).toBe(0);
    lap('lint');
    const checks = await vitest(...CHECKS);
    lap('isolation tests');
    console.log(`adding a model, in a scratch copy: ${phases.join(', ')}`);
    expect(checks.code, checks.output).toBe(0);
    // The tests enumerated the new model from the datamodel.
    expect(checks.output).toContain('Label: with the predicate off, RLS alone hides tenant B’s rows from A');
    expect(checks.output).toContain('Label: the tenant client scopes every read to its tenant');
    expect(checks.output).toContain('tenant A labels its task; tenant B can neither label that task nor see the label');
    expect(await readFile(join(scratch, 'schema/schema.graphql'), 'utf8')).toMatch(/addLabel\(input: AddLabelInput!\): Label/);
  });

  it('without its row-level security, the same tests fail, naming the table', { timeout: 120_000 }, async () => {
    const migration = steps.find((step) => step.rls)?.file ?? '';
    const withoutRls = steps
      .filter((step) => step.file === migration && !step.rls)
      .map((step) => step.body)
      .join('\n');
    await writeFile(join(scratch, migration), withoutRls);
    const checks = await vitest('test/integration/rls-backstop.test.ts', '-t', 'Label');
    expect(checks.code).not.toBe(0);
    expect(checks.output).toContain('labels does not ENABLE ROW LEVEL SECURITY');
  });
});
