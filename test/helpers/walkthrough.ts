import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * One step of a walkthrough page: a fenced block whose info string says `step`. A code block names
 * its file: created, appended to (`append`), or inserted after the first line equal to `after="…"`;
 * an `sh` block is a command to run. `rls` marks the row-level security a negative run leaves out.
 */
export interface WalkthroughStep {
  language: string;
  body: string;
  file?: string;
  mode: 'create' | 'append' | 'after' | 'run';
  after?: string;
  rls: boolean;
}

const FENCE = /^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm;

export async function readWalkthrough(path: string): Promise<WalkthroughStep[]> {
  const text = await readFile(path, 'utf8');
  const steps: WalkthroughStep[] = [];
  for (const [, language = '', info = '', body = ''] of text.matchAll(FENCE)) {
    const words = info.trim();
    if (!/(^|\s)step(\s|$)/.test(words)) continue;
    const file = /(?:^|\s)file=(\S+)/.exec(words)?.[1];
    const after = /(?:^|\s)after="([^"]*)"/.exec(words)?.[1];
    const rls = /(^|\s)rls(\s|$)/.test(words);
    if (language === 'sh') steps.push({ language, body, mode: 'run', rls });
    else if (!file) throw new Error(`a ${language} step names no file`);
    else {
      const mode = after !== undefined ? 'after' : /(^|\s)append(\s|$)/.test(words) ? 'append' : 'create';
      steps.push({ language, body, file, mode, after, rls });
    }
  }
  return steps;
}

/** Applies one file step inside `root`; run steps are the caller's. */
export async function applyStep(root: string, step: WalkthroughStep): Promise<void> {
  if (!step.file) return;
  const path = join(root, step.file);
  if (step.mode === 'create') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, step.body, { flag: 'wx' });
  } else if (step.mode === 'append') {
    await appendFile(path, step.body.startsWith('\n') ? step.body : `\n${step.body}`);
  } else {
    const lines = (await readFile(path, 'utf8')).split('\n');
    const at = lines.indexOf(step.after ?? '');
    if (at < 0) throw new Error(`${step.file} has no line ${JSON.stringify(step.after)} to insert after`);
    lines.splice(at + 1, 0, ...step.body.replace(/\n$/, '').split('\n'));
    await writeFile(path, lines.join('\n'));
  }
}
