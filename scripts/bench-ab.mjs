#!/usr/bin/env node
// `npm run bench:ab -- REV [--rounds N] [--block N] [--json]`: this checkout's build against
// revision REV's, interleaved in one run (test/bench/ab-compare.ts), to show what a change costs
// per call on a machine that drifts more than a change does. REV `.` compares this build with
// itself (the noise). REV is checked out in a temporary git worktree sharing this checkout's
// node_modules (so it should have the same package-lock), built there, and removed afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const rev = args.find((a, i) => !a.startsWith('-') && !(i > 0 && args[i - 1]?.startsWith('--') && args[i - 1] !== '--json'));
if (!rev) {
  process.stderr.write('usage: npm run bench:ab -- REV [--rounds N] [--block N] [--json]   (REV "." compares this build with itself)\n');
  process.exit(2);
}
const rest = args.filter((a) => a !== rev);

/** Build the checkout at `at` as `npm run bench` does: tsc, then the CLI bundle the servers start from. */
function build(at) {
  for (const step of [[join(root, 'node_modules/typescript/bin/tsc'), '-p', join(at, 'tsconfig.json')], [join(at, 'scripts/bundle-cli.mjs')]]) {
    const r = spawnSync(process.execPath, step, { stdio: 'inherit', cwd: at });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' });
build(root);
let against = root;
let cleanup = () => undefined;
if (rev !== '.') {
  const sha = git('rev-parse', '--verify', `${rev}^{commit}`);
  if (sha.status !== 0) {
    process.stderr.write(`not a revision: ${rev}\n`);
    process.exit(2);
  }
  against = join(mkdtempSync(join(tmpdir(), 'warden-ab-')), 'checkout');
  const added = git('worktree', 'add', '--detach', against, sha.stdout.trim());
  if (added.status !== 0) {
    process.stderr.write(added.stderr);
    process.exit(1);
  }
  cleanup = () => {
    git('worktree', 'remove', '--force', against);
    rmSync(dirname(against), { recursive: true, force: true });
  };
  symlinkSync(join(root, 'node_modules'), join(against, 'node_modules'));
  build(against);
}
try {
  const r = spawnSync(process.execPath, [join(root, 'dist/test/bench/ab-compare.js'), '--against', against, ...rest], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  cleanup();
}
