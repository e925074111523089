#!/usr/bin/env node
// The `warden` command's bundle (run by `npm run build`, `npm ci` and `npm test` after tsc): the
// compiled CLI in a few files under dist/bundle/cli/ instead of ~480 modules. Why: loading the
// modules was most of a `warden serve` start (about 1 s of CPU on two slow cores, of which Warden's
// own code ran 30 ms); an MCP client starts a stdio server per session, and a reviewer runs a
// `warden transcripts` or `approvals` command at a prompt. bin/warden.js runs the bundle when it
// is newer than every compiled file it was built from (listed in dist/bundle/cli/inputs.json): a
// `tsc` run after it, or `tsc --watch` rewriting one module, leaves it stale, and then bin/warden.js
// runs dist/src/cli/main.js.
//
// Layout: dist/bundle/cli/ is as deep as dist/src/cli/, so the CLI's `import.meta.url` paths
// (../../../package.json, ../../../bin/warden.js) and its workers (./store-worker.js,
// ./verify-worker.js, entries of their own here) resolve as they do unbundled. Subcommands stay
// lazily loaded (code splitting: `warden --help` does not load the server). Packages with native
// or WebAssembly parts, and large CommonJS ones Node loads quickly, stay in node_modules.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle loads from node_modules: native, WebAssembly, or CommonJS (loaded by require, quickly). */
export const EXTERNAL = ['better-sqlite3', 'web-tree-sitter', 'tree-sitter-bash', '@electric-sql/*', '@kubernetes/client-node', 'pg', 'ssh2', 'ws', 'node-sql-parser'];

/** Where the bundle goes, and the files it is built from (tsc's output). */
export const bundleDir = (at) => join(at, 'dist', 'bundle', 'cli');
export const ENTRIES = { main: 'dist/src/cli/main.js', 'store-worker': 'dist/src/recorder/store-worker.js', 'verify-worker': 'dist/src/recorder/verify-worker.js' };

/** Build the bundle from `at`'s dist/src (default: this checkout). Returns false, saying why, when it cannot. */
export async function bundleCli(at = root, log = (m) => process.stderr.write(`[bundle] ${m}\n`)) {
  const out = bundleDir(at);
  rmSync(out, { recursive: true, force: true });
  const missing = Object.values(ENTRIES).filter((f) => !existsSync(join(at, f)));
  if (missing.length) {
    log(`not built: ${missing.join(', ')} missing (run tsc first)`);
    return false;
  }
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    log('esbuild is not installed (a dev dependency): `warden` runs the unbundled build');
    return false;
  }
  const result = await esbuild.build({
    absWorkingDir: at,
    entryPoints: ENTRIES,
    outdir: out,
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages inside the bundle (yaml) call require() for Node's own modules.
    banner: { js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  // The CLI again as one CommonJS file, main.cjs, which bin/warden.js runs with V8's code cache
  // (bin/code-cache.js: Node 20 caches compiled code for vm.Script, not for ES modules). Its lazy
  // imports become lazily run functions of the same file; its workers stay the ES modules above
  // (import.meta.url is the file's own URL, so ./store-worker.js resolves beside it).
  await esbuild.build({
    absWorkingDir: at,
    entryPoints: { main: ENTRIES.main },
    outdir: out,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    define: { 'import.meta.url': '__wardenBundleUrl' },
    // import() becomes require() (ssh2 and @kubernetes/client-node load lazily still): a vm.Script
    // run from V8's code cache loses its dynamic-import callback on Node 20, and the one Node
    // offers for it (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER) is experimental and warns.
    supported: { 'dynamic-import': false },
    banner: { js: "var __wardenBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  // Written last: without it bin/warden.js never runs the bundle.
  const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('dist/')).sort();
  writeFileSync(join(out, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ok = await bundleCli().catch((err) => {
    process.stderr.write(`[bundle] failed: ${err?.message ?? err}\n`);
    process.exit(1);
  });
  if (!ok) process.exitCode = 0; // said why; the unbundled CLI still runs
  else {
    // The code cache, written now by whoever builds (scripts/warm-code-cache.mjs).
    const { warmCodeCache } = await import('./warm-code-cache.mjs');
    const why = await warmCodeCache(root).catch((err) => err?.message ?? String(err));
    if (why) process.stderr.write(`[bundle] no code cache written (warden compiles the bundle at each start instead): ${why}\n`);
  }
}
