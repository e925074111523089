#!/usr/bin/env node
// The `warden` bin: plain JavaScript that runs the compiled CLI (built by `npm ci` / `npm run build`).
// It runs the bundle (scripts/bundle-cli.mjs: a few files, not ~480 modules, so it starts in about
// half the time) when it is newer than every compiled file it was built from, else the compiled
// modules themselves (a `tsc` run since the bundle was built).
import { existsSync, readFileSync, statSync } from 'node:fs';
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
await import((freshBundle() ? new URL('dist/bundle/cli/main.js', root) : main).href);
