/**
 * `npm test` runs short test files in groups that share one process (scripts/test-groups.mjs):
 * which files must run alone, how groups are cut, that a group's entry runs every member's tests
 * in one process, and how a group's time is shared among its members for the next run's order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo.js';

type Run = { file?: string; members?: string[] };
interface TestGroups {
  SOLO_MS: number;
  GROUP_MS: number;
  soloReason(source: string): string | null;
  planRuns(files: string[], ms: (f: string) => number, reason: (f: string) => string | null): Run[];
  writeGroupEntries(root: string, dir: string, runs: Run[]): Run[];
  removeStaleEntries(distDir: string): void;
}
interface TestOrder {
  saveTimes(root: string, linesPath: string, groups?: Record<string, string[]>): void;
  cachedTimesPath(root: string): string;
  snapshotTimesPath(root: string): string;
}
const groups = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'test-groups.mjs')).href)) as TestGroups;
const order = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'test-order.mjs')).href)) as TestOrder;

test('a file runs alone when it signals its own process or asks to; its top-level hooks are its own in a group', () => {
  assert.match(groups.soloReason("process.kill(process.pid, 'SIGHUP');") ?? '', /signals/);
  assert.match(groups.soloReason('// warden-test: solo (it counts the process\'s handles)') ?? '', /asks/);
  assert.equal(groups.soloReason("import { beforeEach } from 'node:test';\nbeforeEach(async () => {});\nafterEach(() => {});\nbefore(() => {});\nafter(() => {});"), null, 'a member\'s hooks run in its own suite');
});

test('groups are consecutive files in path order up to GROUP_MS; slow and solo files run alone; a lone leftover is a plain run', () => {
  const small = Math.floor(groups.GROUP_MS / 3);
  const ms: Record<string, number> = { 'd/a.test.js': small, 'd/b.test.js': small, 'd/c.test.js': groups.SOLO_MS + 1, 'd/d.test.js': small, 'd/e.test.js': small, 'd/f.test.js': small, 'd/g.test.js': small };
  const runs = groups.planRuns(Object.keys(ms).reverse(), (f) => ms[f]!, (f) => (f === 'd/e.test.js' ? 'solo' : null));
  assert.deepEqual(runs, [
    { file: 'd/c.test.js' },
    { members: ['d/a.test.js', 'd/b.test.js', 'd/d.test.js'] },
    { file: 'd/e.test.js' },
    { members: ['d/f.test.js', 'd/g.test.js'] },
  ]);
  assert.deepEqual(groups.planRuns(['x.test.js'], () => 1, () => null), [{ file: 'x.test.js' }]);
});

test('a group entry runs each member in a suite of its own, in one process: its hooks run around its own tests only', () => {
  const root = mkdtempSync(join(tmpdir(), 'warden-groups-'));
  try {
    mkdirSync(join(root, 't'));
    const log = join(root, 'log');
    for (const name of ['a', 'b']) {
      writeFileSync(join(root, 't', `${name}.test.mjs`), [
        "import { test, before, after, beforeEach } from 'node:test';",
        "import { appendFileSync } from 'node:fs';",
        `const note = (what) => appendFileSync(${JSON.stringify(log)}, what + ' ' + process.pid + '\\n');`,
        'await new Promise((r) => setTimeout(r, 10)); // top-level await before the hooks and tests',
        `before(() => note('before-${name}'));`,
        `beforeEach(() => note('each-${name}'));`,
        `after(() => note('after-${name}'));`,
        `test('${name} runs', () => note('test-${name}'));`,
      ].join('\n'));
    }
    const [run] = groups.writeGroupEntries(root, join(root, 'g'), [{ members: ['t/a.test.mjs', 't/b.test.mjs'] }]);
    assert.match(run!.file!, /[/\\]000-t\.test\.js$/);
    // Without NODE_TEST_CONTEXT: this file's own runner would take the child's report.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const r = spawnSync(process.execPath, ['--test', run!.file!], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# tests 2\n/);
    assert.match(r.stdout, /# pass 2\n/);
    assert.match(r.stdout, /ok \d+ - t\/a\.test\.mjs\n/, 'each member is a suite named by its path');
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
    assert.deepEqual(lines.map(([what]) => what), ['before-a', 'each-a', 'test-a', 'after-a', 'before-b', 'each-b', 'test-b', 'after-b']);
    assert.equal(new Set(lines.map(([, pid]) => pid)).size, 1, 'one process');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a group\'s time is shared among its members in proportion to their previous times', () => {
  const root = mkdtempSync(join(tmpdir(), 'warden-groups-'));
  try {
    mkdirSync(join(root, 'scripts'));
    writeFileSync(order.snapshotTimesPath(root), JSON.stringify({ 'dist/test/a.test.js': 1_000, 'dist/test/b.test.js': 3_000, 'dist/test/c.test.js': 9 }));
    const lines = join(root, 'times.jsonl');
    writeFileSync(lines, `${JSON.stringify({ file: join(root, 'dist/test-groups-1/000-test.test.js'), ms: 2_000 })}\n`);
    order.saveTimes(root, lines, { 'dist/test-groups-1/000-test.test.js': ['dist/test/a.test.js', 'dist/test/b.test.js'] });
    assert.deepEqual(JSON.parse(readFileSync(order.cachedTimesPath(root), 'utf8')), { 'dist/test/a.test.js': 500, 'dist/test/b.test.js': 1_500, 'dist/test/c.test.js': 9 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run removes the group entries that runs no longer alive left behind, not a live run\'s', () => {
  const dist = mkdtempSync(join(tmpdir(), 'warden-groups-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    for (const name of [`test-groups-${dead}`, `test-groups-${process.pid}`, 'test']) mkdirSync(join(dist, name));
    groups.removeStaleEntries(dist);
    assert.equal(existsSync(join(dist, `test-groups-${dead}`)), false, 'a dead run\'s entries go');
    assert.equal(existsSync(join(dist, `test-groups-${process.pid}`)), true, 'a live run\'s stay');
    assert.equal(existsSync(join(dist, 'test')), true, 'other folders stay');
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
});
