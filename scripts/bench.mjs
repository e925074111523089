#!/usr/bin/env node
// `npm run bench`: build, then run every benchmark script in dist/test/bench/ (each compares
// side by side in one run and reports ratios), print their output, and write the JSON of all
// of them to bench-results/latest.json. Pass names to run a subset: `npm run bench -- query masking`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
// The `warden` bundle the benchmarks' servers start from (scripts/bundle-cli.mjs), rebuilt from what tsc wrote.
const bundled = spawnSync(process.execPath, [join(root, 'scripts/bundle-cli.mjs')], { stdio: 'inherit' });
if (bundled.status !== 0) process.exit(bundled.status ?? 1);
const dir = join(root, 'dist/test/bench');
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).filter((f) => !filters.length || filters.some((x) => f.includes(x))).sort();
const results = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version }, at: new Date().toISOString(), benches: {} };
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, [join(dir, f), '--json'], { encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`FAILED (exit ${r.status})\n${r.stderr.slice(-4000)}\n`);
    continue;
  }
  try {
    const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    results.benches[f.replace(/\.bench\.js$/, '')] = doc;
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } catch {
    process.stdout.write(r.stdout);
  }
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`\nwrote bench-results/latest.json (${files.length} benches, ${failed} failed)\n`);
process.exit(failed ? 1 : 0);
