#!/usr/bin/env node
// The `warden` bin: plain JavaScript that runs the compiled CLI (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('warden: not built yet; run `npm run build` (npm ci builds it too)\n');
  process.exit(1);
}
await import(main.href);
