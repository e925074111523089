/**
 * `npm test` repeats the failing tests after the runner's totals (scripts/test-failures.mjs), so a
 * CI log read from its tail names them: checked on the real `node --test` TAP output of scratch
 * files holding a nested failure, a failing top-level test, a file that throws while
 * loading, and passing tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo.js';

interface Collector {
  push(line: string): void;
  lines(): string[];
}
const { failureCollector } = (await import(pathToFileURL(join(REPO_ROOT, 'scripts', 'test-failures.mjs')).href)) as {
  failureCollector(): Collector;
};

function tapOf(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tap-'));
  try {
    const paths = Object.entries(files).map(([name, body]) => {
      writeFileSync(join(dir, name), body);
      return join(dir, name);
    });
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // this file's own runner sets it; the scratch run is a run of its own
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...paths], { encoding: 'utf8', env });
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summaryOf(tap: string): string[] {
  const c = failureCollector();
  for (const line of tap.split('\n')) c.push(line);
  return c.lines();
}

const HEAD = "import test from 'node:test'; import assert from 'node:assert/strict';\n";

test('each failing test is named with its parents, location and message; passing tests and parents failed only by a subtest are not', () => {
  const tap = tapOf({
    'a.test.mjs': `${HEAD}test('outer', async (t) => { await t.test('inner fails', () => { assert.equal(1, 2, 'one is not two'); }); await t.test('inner passes', () => {}); });\ntest('top fails', () => { throw new Error('boom at the top'); });\ntest('passes', () => {});\n`,
    'b.test.mjs': `throw new Error('this file does not load');\n`,
  });
  assert.match(tap, /not ok/, 'the scratch run failed as written');
  const summary = summaryOf(tap);
  const text = summary.join('\n');
  assert.match(summary[0] ?? '', /^# 3 failing test\(s\)/, text);
  assert.match(text, /# FAILED: outer > inner fails \(.*a\.test\.mjs:2:\d+\) \[testCodeFailure\]\n#   one is not two/);
  assert.match(text, /# FAILED: top fails .*\n#   boom at the top/);
  // a file that fails to load: its name (its reason went to stderr, which passes through as it is)
  assert.match(text, /# FAILED: .*b\.test\.mjs \(.*\) \[testCodeFailure\]\n#   test failed/);
  assert.doesNotMatch(text, /FAILED: outer \(/, 'a parent failed only by its subtest is not repeated');
  assert.doesNotMatch(text, /passes/);
});

test('a run where everything passes prints nothing more', () => {
  const tap = tapOf({ 'c.test.mjs': `${HEAD}test('fine', async (t) => { await t.test('nested fine', () => {}); });\n` });
  assert.match(tap, /# pass 2/);
  assert.deepEqual(summaryOf(tap), []);
});
