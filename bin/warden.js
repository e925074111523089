#!/usr/bin/env node
// The `warden` bin: plain JavaScript that runs the compiled CLI (built by `npm ci` / `npm run build`).
// It runs the bundle (scripts/bundle-cli.mjs: a few files, not ~480 modules, so it starts in about
// half the time) when it is newer than every compiled file it was built from, else the compiled
// modules themselves (a `tsc` run since the bundle was built). The bundle's CommonJS build
// (main.cjs) runs with V8's code cache (code-cache.js); its ES module build (main.js) for help and
// the version, or when there is no CommonJS one.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const root = new URL('../', import.meta.url);
const main = new URL('dist/src/cli/main.js', root);
if (!existsSync(main)) {
  process.stderr.write('warden: not built yet; run `npm run build` (npm ci builds it too)\n');
  process.exit(1);
}
function freshBundle() {
  try {
    const list = new URL('dist/bundle/cli/inputs.json', root);
    const built = statSync(list).mtimeMs;
    const inputs = JSON.parse(readFileSync(list, 'utf8'));
    return Array.isArray(inputs) && inputs.length > 0 && inputs.every((f) => statSync(new URL(f, root)).mtimeMs <= built);
  } catch {
    return false;
  }
}
const args = process.argv.slice(2);
const end = args.indexOf('--');
// Help, usage and the version (src/cli/main.ts answers them before loading anything) take a few
// small files of the ES module build; reading the whole CommonJS one and its cache costs more.
const textOnly = args.length === 0 || ['--version', 'version', 'help'].includes(args[0]) || (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
const cjs = new URL('dist/bundle/cli/main.cjs', root);
if (!freshBundle()) await import(main.href);
else if (!textOnly && existsSync(cjs)) (await import('./code-cache.js')).runBundle(fileURLToPath(cjs), args);
else await import(new URL('dist/bundle/cli/main.js', root).href);
