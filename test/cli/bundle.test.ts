/**
 * The `warden` bin runs the bundle scripts/bundle-cli.mjs builds (npm ci, npm run build and
 * npm test build it after tsc) only while it is newer than every compiled file it was built from;
 * a tsc run since then (or tsc --watch rewriting one module) makes the bin run the compiled
 * modules, never a stale bundle. Checked on a scratch copy of the bin, and on this build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { writeWardenDir } from '../support/warden-process.js';

/** A scratch root with the real bin, a compiled CLI and a bundle that say which one ran. */
function scratch(): { root: string; touch(rel: string, secondsAgo: number): void; run(): string } {
  const root = mkdtempSync(join(tmpdir(), 'warden-bin-'));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  mkdirSync(join(root, 'bin'));
  copyFileSync(WARDEN_BIN, join(root, 'bin', 'warden.js'));
  write('package.json', '{"type": "module"}\n');
  write('dist/src/cli/main.js', "console.log('compiled');\n");
  write('dist/src/recorder/x.js', '\n');
  write('dist/bundle/cli/main.js', "console.log('bundle');\n");
  write('dist/bundle/cli/inputs.json', JSON.stringify(['dist/src/cli/main.js', 'dist/src/recorder/x.js']));
  const touch = (rel: string, secondsAgo: number) => {
    const at = Date.now() / 1000 - secondsAgo;
    utimesSync(join(root, rel), at, at);
  };
  touch('dist/src/cli/main.js', 60);
  touch('dist/src/recorder/x.js', 60);
  touch('dist/bundle/cli/inputs.json', 30);
  return {
    root,
    touch,
    run() {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'warden.js')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    },
  };
}

test('the bin runs the bundle only while it is newer than every file it was built from', () => {
  const s = scratch();
  try {
    assert.equal(s.run(), 'bundle', 'built after its inputs');
    s.touch('dist/src/recorder/x.js', 0);
    assert.equal(s.run(), 'compiled', 'one input rewritten since (tsc --watch)');
    s.touch('dist/src/recorder/x.js', 60);
    assert.equal(s.run(), 'bundle');
    s.touch('dist/src/cli/main.js', 0);
    assert.equal(s.run(), 'compiled', 'tsc ran since');
    s.touch('dist/src/cli/main.js', 60);
    rmSync(join(s.root, 'dist/src/recorder/x.js'));
    assert.equal(s.run(), 'compiled', 'an input is gone');
    writeFileSync(join(s.root, 'dist/src/recorder/x.js'), '\n');
    s.touch('dist/src/recorder/x.js', 60);
    writeFileSync(join(s.root, 'dist/bundle/cli/inputs.json'), '[]');
    assert.equal(s.run(), 'compiled', 'an empty input list is no bundle');
    rmSync(join(s.root, 'dist/bundle/cli/inputs.json'));
    assert.equal(s.run(), 'compiled', 'no input list (a bundle build cut short)');
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

/**
 * Node's --import argument for a loader hook that prints every module Node loads ('LOAD url' on
 * stderr). Written with writeSync: the hooks run on their own thread, and its asynchronous
 * process.stderr writes were lost when `--version` exited at once (a CI run saw only bin/warden.js).
 */
function loadLogger(): string {
  const hooks = `data:text/javascript,${encodeURIComponent("import { writeSync } from 'node:fs'; export async function load(url, context, next) { writeSync(2, 'LOAD ' + url + '\\n'); return next(url, context); }")}`;
  return `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;
}

test('this build\'s bin runs the bundle: its own modules, and none of the compiled CLI\'s', () => {
  const list = join(REPO_ROOT, 'dist', 'bundle', 'cli', 'inputs.json');
  assert.ok(existsSync(list), 'npm test bundles the CLI after tsc (scripts/bundle-cli.mjs)');
  const inputs = JSON.parse(readFileSync(list, 'utf8')) as string[];
  assert.ok(inputs.includes('dist/src/cli/main.js') && inputs.includes('dist/src/recorder/store-worker.js') && inputs.length > 300, `${inputs.length} inputs`);
  assert.ok(existsSync(join(REPO_ROOT, 'dist', 'bundle', 'cli', 'main.cjs')), 'the CommonJS build the bin runs with the code cache');
  const env = { ...process.env, WARDEN_CODE_CACHE: 'debug' };
  // The version: the ES module build.
  const r = spawnSync(process.execPath, ['--import', loadLogger(), WARDEN_BIN, '--version'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOAD file:'));
  assert.ok(loaded.some((l) => l.includes('/dist/bundle/cli/main.js')), loaded.join('\n'));
  assert.deepEqual(loaded.filter((l) => l.includes('/dist/src/')), [], 'no compiled module is loaded beside the bundle');
  // A command: the CommonJS build, with the code cache.
  const c = spawnSync(process.execPath, ['--import', loadLogger(), WARDEN_BIN, 'nope'], { encoding: 'utf8', env });
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /^warden code cache: (none|accepted|rejected) \(.*\/dist\/bundle\/cli\/main\.cjs\)$/m);
  const cLoaded = c.stderr.split('\n').filter((l) => l.startsWith('LOAD file:'));
  assert.ok(cLoaded.some((l) => l.includes('/bin/code-cache.js')), cLoaded.join('\n'));
  assert.deepEqual(cLoaded.filter((l) => l.includes('/dist/src/') || l.includes('/dist/bundle/cli/main.js')), [], 'nothing but the CommonJS bundle');
});

/** Node's --import argument that prints, at exit, how many of Node's own modules loaded are its fetch implementation (undici). */
function undiciCounter(): string {
  return `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('UNDICI ' + process.moduleLoadList.filter((m) => m.includes('undici')).length + '\\n'));")}`;
}

test('a stdio server loads ssh2, the SQL parser, ws and Node\'s fetch when first needed, not at start (tools/ssh/connector.ts, tools/postgres/analysis/index.ts, tools/kubernetes/exec-stream.ts, src/pg-stream-probe.ts)', () => {
  const wd = writeWardenDir('transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: a, groups: [g] } }\nconnections:\n  db: { type: postgres, url: env:DB_URL }\n  box: { type: ssh, host: 127.0.0.1, port: 1, user: x, private_key: env:KEY, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }\npolicies: []\n', {});
  try {
    // stdin closed: the server starts (config, store, tools) and ends. The loader hook sees ES
    // modules, NODE_DEBUG=module the CommonJS ones (node-sql-parser is required).
    const env = { PATH: process.env.PATH ?? '', DB_URL: 'postgres://x@127.0.0.1:1/x', KEY: 'unused', WARDEN_LOG_LEVEL: 'error', NODE_DEBUG: 'module' };
    const r = spawnSync(process.execPath, ['--import', loadLogger(), '--import', undiciCounter(), WARDEN_BIN, 'serve', '--config', wd.configPath], { encoding: 'utf8', input: '', env, maxBuffer: 64 * 1024 * 1024 });
    const lines = r.stderr.split('\n');
    assert.ok(lines.some((l) => l.startsWith('LOAD file:') && l.includes('/bin/warden.js')), `the hook sees modules: ${r.stderr.slice(-2000)}`);
    assert.ok(lines.some((l) => l.startsWith('MODULE') && l.includes('/node_modules/pg/lib/client.js')), 'NODE_DEBUG=module shows what require loads (pg is loaded at start)');
    // pg's probe for Cloudflare Workers touches Response, which loads Node's fetch (pg-stream-probe.ts).
    assert.deepEqual(lines.filter((l) => l.startsWith('UNDICI ')), ['UNDICI 0']);
    assert.deepEqual(lines.filter((l) => l.includes('/node_modules/ssh2/')).slice(0, 3), []);
    assert.deepEqual(lines.filter((l) => l.includes('node-sql-parser')).slice(0, 3), []);
    // The Kubernetes exec's WebSocket client (tools/kubernetes/exec-stream.ts).
    assert.deepEqual(lines.filter((l) => l.includes('/node_modules/ws/')).slice(0, 3), []);
  } finally {
    wd.cleanup();
  }
});
