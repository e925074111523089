/**
 * bin/code-cache.js: the bin runs the CommonJS bundle with V8's code cache. Checked on a scratch
 * copy of the bin whose "bundle" says what ran: the cache is written when there is none, taken
 * next time, never used for another bundle file (V8 itself checks only the source's length),
 * rejected and rewritten when V8 refuses its data, replaced by a `serve`'s, and never needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';

const BUNDLE = 'dist/bundle/cli/main.cjs';
const CACHE = `${BUNDLE}.v8cache`;

/** A bundle whose output names it and the command's first argument (as the CLI reads it). */
const bundleText = (name: string) => `const f = () => '${name}';\nconsole.log(f() + ' ' + (process.argv[2] ?? '-'));\n`;

function scratch() {
  const root = mkdtempSync(join(tmpdir(), 'warden-cache-'));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  mkdirSync(join(root, 'bin'));
  copyFileSync(WARDEN_BIN, join(root, 'bin', 'warden.js'));
  copyFileSync(join(REPO_ROOT, 'bin', 'code-cache.js'), join(root, 'bin', 'code-cache.js'));
  write('package.json', '{"type": "module"}\n');
  write('dist/src/cli/main.js', "console.log('compiled');\n");
  write(BUNDLE, bundleText('AAAA'));
  write('dist/bundle/cli/main.js', "console.log('esm ' + (process.argv[2] ?? '-'));\n");
  write('dist/bundle/cli/inputs.json', JSON.stringify(['dist/src/cli/main.js']));
  const past = Date.now() / 1000 - 60;
  utimesSync(join(root, 'dist/src/cli/main.js'), past, past);
  return {
    root,
    write,
    path: (rel: string) => join(root, rel),
    /** stdout and the cache's debug lines of one run. */
    run(args: string[] = ['list'], mode = 'debug', status = 0): { out: string; cache: string[] } {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'warden.js'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', WARDEN_CODE_CACHE: mode } });
      assert.equal(r.status, status, r.stderr);
      const cache = r.stderr.split('\n').filter((l) => l.startsWith('warden code cache: ')).map((l) => l.slice(19).replace(/ \(.*\)$/, ''));
      return { out: r.stdout.trim(), cache };
    },
  };
}

test('the cache is written when there is none and taken by the next start', () => {
  const s = scratch();
  try {
    assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['none', 'written'] });
    assert.ok(statSync(s.path(CACHE)).size > 0);
    assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['accepted'] });
    assert.deepEqual(s.run(['list'], ''), { out: 'AAAA list', cache: [] }, 'no debug lines unless asked');
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('a cache is used only for the very bundle file it was made from, whatever its length', () => {
  const s = scratch();
  try {
    s.run();
    const before = statSync(s.path(BUNDLE));
    // The same length and mtime: V8 would take the old code (it checks the length).
    writeFileSync(s.path(BUNDLE), bundleText('BBBB'));
    utimesSync(s.path(BUNDLE), before.atime, before.mtime);
    assert.deepEqual(s.run(), { out: 'BBBB list', cache: ['none', 'written'] });
    assert.deepEqual(s.run(), { out: 'BBBB list', cache: ['accepted'] });
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('data V8 refuses, a damaged file or one that is a folder: the bundle runs from source', () => {
  const s = scratch();
  try {
    s.run();
    const bytes = readFileSync(s.path(CACHE));
    const header = 4 + bytes.readUInt32LE(0);
    // The stamp kept, V8's data damaged: V8 rejects it; the cache is written anew.
    writeFileSync(s.path(CACHE), Buffer.concat([bytes.subarray(0, header), Buffer.alloc(bytes.length - header, 7)]));
    assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['rejected', 'written'] });
    assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['accepted'] });
    for (const junk of [Buffer.alloc(0), Buffer.from([255, 255, 255, 255, 1]), Buffer.from('not a cache')]) {
      writeFileSync(s.path(CACHE), junk);
      assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['none', 'written'] });
    }
    rmSync(s.path(CACHE));
    mkdirSync(s.path(CACHE));
    assert.deepEqual(s.run(), { out: 'AAAA list', cache: ['none', 'not written: cannot write beside the bundle'] });
    assert.deepEqual(s.run(['list'], 'off'), { out: 'AAAA list', cache: [] });
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('WARDEN_CODE_CACHE=off neither reads nor writes a cache', () => {
  const s = scratch();
  try {
    assert.deepEqual(s.run(['list'], 'off'), { out: 'AAAA list', cache: [] });
    assert.equal(existsSync(s.path(CACHE)), false);
    s.run();
    assert.ok(existsSync(s.path(CACHE)));
    const written = statSync(s.path(CACHE)).mtimeMs;
    s.write(CACHE, 'tampered');
    assert.deepEqual(s.run(['list'], 'off'), { out: 'AAAA list', cache: [] });
    assert.equal(readFileSync(s.path(CACHE), 'utf8'), 'tampered', 'not read, not rewritten');
    assert.notEqual(statSync(s.path(CACHE)).mtimeMs, written);
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('a serve replaces a cache another command wrote, once', () => {
  const s = scratch();
  try {
    assert.deepEqual(s.run().cache, ['none', 'written']);
    assert.deepEqual(s.run(['serve']), { out: 'AAAA serve', cache: ['accepted', 'written'] });
    assert.deepEqual(s.run(['serve']).cache, ['accepted']);
    assert.deepEqual(s.run().cache, ['accepted'], 'another command keeps a serve\'s cache');
    assert.deepEqual(s.run(['serve']).cache, ['accepted']);
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('a serve that exits with an error writes a cache as another command\'s, which the next serve replaces', () => {
  const s = scratch();
  try {
    // A bad config ends a serve early: it ran little of what a server runs.
    s.write(BUNDLE, "console.log('BBBB ' + process.argv[2]);\nif (process.argv[3] === 'fail') process.exitCode = 1;\n");
    assert.deepEqual(s.run(['serve', 'fail'], 'debug', 1), { out: 'BBBB serve', cache: ['none', 'written'] });
    assert.deepEqual(s.run(['serve']), { out: 'BBBB serve', cache: ['accepted', 'written'] }, 'replaced');
    assert.deepEqual(s.run(['serve']).cache, ['accepted']);
    assert.deepEqual(s.run(['serve', 'fail'], 'debug', 1).cache, ['accepted'], 'a serve\'s cache is kept');
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('help, usage and the version run the ES module build (a few small files), every other command the CommonJS one', () => {
  const s = scratch();
  try {
    for (const args of [[], ['--version'], ['version'], ['help'], ['--help'], ['-h'], ['serve', '--help'], ['transcripts', 'list', '-h']]) {
      assert.deepEqual(s.run(args), { out: `esm ${args[0] ?? '-'}`, cache: [] }, args.join(' '));
    }
    assert.equal(s.run(['serve', '--', '--help']).out, 'AAAA serve', 'after --, --help is an operand');
    assert.equal(s.run(['serve']).out, 'AAAA serve');
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('this build: its CommonJS bundle runs, and a second start takes the cache the first wrote', () => {
  // A scratch root with this build's bundle (and the packages it requires), so no other test's
  // Warden writes its cache meanwhile.
  const s = scratch();
  try {
    copyFileSync(join(REPO_ROOT, BUNDLE), s.path(BUNDLE));
    copyFileSync(join(REPO_ROOT, 'package.json'), s.path('package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), s.path('node_modules'));
    // A script run from cached data has no dynamic-import callback on Node 20: every import() of
    // the CLI (ssh2, @kubernetes/client-node load lazily) is a require() in this bundle.
    const calls = readFileSync(s.path(BUNDLE), 'utf8').split('\n').filter((l) => /\bimport\(/.test(l) && !/^\s*(\/\/|\*)/.test(l));
    assert.deepEqual(calls, []);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    // An unknown command: a usage error (exit 2) from the CLI's own code, run from the CommonJS bundle.
    assert.deepEqual(s.run(['nope'], 'debug', 2), { out: '', cache: ['none', 'written'] });
    assert.ok(statSync(s.path(CACHE)).size > 100_000, 'the compiled code of a 4 MB bundle');
    assert.deepEqual(s.run(['nope'], 'debug', 2), { out: '', cache: ['accepted'] });
    rmSync(s.path('dist/bundle/cli/main.js'));
    assert.deepEqual(s.run(['--version'], 'debug', 1).cache, [], 'the version is the ES module build\'s (here gone), not this one');
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});

test('the build writes a serve\'s cache (scripts/warm-code-cache.mjs), so a root-owned install has one', async () => {
  const s = scratch();
  try {
    copyFileSync(join(REPO_ROOT, BUNDLE), s.path(BUNDLE));
    copyFileSync(join(REPO_ROOT, 'package.json'), s.path('package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), s.path('node_modules'));
    const warm = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'warm-code-cache.mjs')).href)) as {
      warmCodeCache(at: string): Promise<string | null>;
      cacheWriter(path: string): string | null;
    };
    assert.equal(warm.cacheWriter(s.path(CACHE)), null);
    assert.equal(await warm.warmCodeCache(s.root), null);
    assert.equal(warm.cacheWriter(s.path(CACHE)), 'serve', 'written by a serve that answered tools/list');
    assert.deepEqual(s.run(['serve', '--config', s.path('none.yaml')], 'debug', 1).cache, ['accepted'], 'taken, and kept');
    // A cache it cannot write (here a folder in its place, which stops root too): said, never thrown.
    rmSync(s.path(CACHE));
    mkdirSync(s.path(CACHE));
    assert.match((await warm.warmCodeCache(s.root)) ?? '', /wrote no cache/);
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
});
