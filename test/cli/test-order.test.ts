/**
 * `npm test` starts the slowest test files first (scripts/test-order.mjs), timed by a preload in
 * each test file's process (scripts/test-file-timer.mjs): the order, the fallback for unknown
 * files, and the fold of a run's times into the cache, checked on a scratch repository root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo.js';

interface TestOrder {
  readTimes(root: string): Record<string, number>;
  slowestFirst(files: string[], times: Record<string, number>): string[];
  saveTimes(root: string, linesPath: string): void;
  cachedTimesPath(root: string): string;
  snapshotTimesPath(root: string): string;
}
const order = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'test-order.mjs')).href)) as TestOrder;

test('files run slowest first; a file with no time counts as the median; ties keep name order', () => {
  const times = { 'dist/test/a.test.js': 5_000, 'dist/test/b.test.js': 60_000, 'dist/test/c.test.js': 1_000, 'dist/test/e.test.js': 1_000 };
  const files = ['dist/test/a.test.js', 'dist/test/b.test.js', 'dist/test/c.test.js', 'dist/test/d.test.js', 'dist/test/e.test.js'];
  assert.deepEqual(order.slowestFirst(files, times), ['dist/test/b.test.js', 'dist/test/a.test.js', 'dist/test/d.test.js', 'dist/test/c.test.js', 'dist/test/e.test.js']);
  assert.deepEqual(order.slowestFirst(files, {}), files, 'no times at all: name order');
});

test('a run folds its times into the cache, which wins over the committed snapshot', () => {
  const root = mkdtempSync(join(tmpdir(), 'warden-order-'));
  try {
    mkdirSync(join(root, 'scripts'));
    writeFileSync(order.snapshotTimesPath(root), JSON.stringify({ 'dist/test/a.test.js': 10, 'dist/test/b.test.js': 20 }));
    assert.deepEqual(order.readTimes(root), { 'dist/test/a.test.js': 10, 'dist/test/b.test.js': 20 }, 'no cache yet: the snapshot');
    const lines = join(root, 'times.jsonl');
    writeFileSync(lines, `${JSON.stringify({ file: join(root, 'dist/test/a.test.js'), ms: 900 })}\n{"file": "cut by a ki\n`);
    order.saveTimes(root, lines);
    assert.equal(existsSync(lines), false, 'the run lines are removed once folded');
    assert.deepEqual(order.readTimes(root), { 'dist/test/a.test.js': 900, 'dist/test/b.test.js': 20 });
    assert.deepEqual(JSON.parse(readFileSync(order.cachedTimesPath(root), 'utf8')), { 'dist/test/a.test.js': 900, 'dist/test/b.test.js': 20 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the timer preload appends a test file process its wall time, and nothing for other processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-timer-'));
  try {
    const out = join(dir, 'times.jsonl');
    const timer = pathToFileURL(join(REPO_ROOT, 'scripts', 'test-file-timer.mjs')).href;
    for (const name of ['x.test.js', 'not-a-test.js']) {
      writeFileSync(join(dir, name), 'setTimeout(() => {}, 50);\n');
      const r = spawnSync(process.execPath, ['--import', timer, join(dir, name)], { env: { ...process.env, WARDEN_TEST_TIMES: out }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const recorded = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; ms: number });
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.file, join(dir, 'x.test.js'));
    assert.ok(recorded[0]!.ms >= 50, `wall time ${recorded[0]!.ms} ms covers the 50 ms timer`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
