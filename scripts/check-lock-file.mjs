// Fails when package-lock.json lacks a package some entry lists as optional — typically another
// platform's binary (@esbuild/darwin-arm64, @biomejs/cli-linux-arm64-musl). npm ci refuses such a
// lock file ("Missing: … from lock file"), on every platform. A lock file written by
// `npm install --package-lock-only` (npm run lock) resolves every platform's optional packages.
import { readFileSync } from 'node:fs';

// The project's lock file, or the one named on the command line (tests).
const lockFile = process.argv[2] ?? new URL('../package-lock.json', import.meta.url);
const { packages } = JSON.parse(readFileSync(lockFile, 'utf8'));

/** Where Node would find `name` from the package at `path`: its own node_modules, then each parent's. */
function resolves(path, name) {
  for (let base = path; ; ) {
    if (packages[`${base ? `${base}/` : ''}node_modules/${name}`]) return true;
    if (!base) return false;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

const missing = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(path, name)) missing.push(`${name} (optional dependency of ${path || 'the project'})`);
  }
}
if (missing.length > 0) {
  console.error(
    `package-lock.json lacks ${missing.length} optional package(s); npm ci would refuse it. Run: npm run lock\n  ${missing.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`package-lock.json records every optional package (${Object.keys(packages).length - 1} packages)`);
