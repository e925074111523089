/**
 * A deploy caught half-way can cut an allow rule as well as a deny: a block-style allow cut at a
 * line boundary before its `sql:` (or `on:`, `who:`, `tool:`) is still valid YAML, keeps its id,
 * and grants more than either the old or the new file (every table, every principal...). The
 * watcher holds such a reload like a lost deny (policy-diff.ts: an allow kept by id that no
 * longer names a term it named), so the cut rule is never served; a deliberate edit applies after
 * the bounded wait, with a warning naming what the allow no longer names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime } from '../../src/server/runtime.js';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { decide } from '../../src/policy/engine.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import { families } from '../../tools/index.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import { writeWardenDir } from '../support/warden-process.js';
import { until } from '../support/http-warden.js';

const CONFIG = 'transcripts: { store: sqlite:warden.db }\npolicies: [policies/*.yaml]\nconnections:\n  shop: { type: postgres, url: env:UNUSED_SHOP_URL }\n';
const HEAD = 'rules:\n  - id: staff\n    effect: allow\n    who: { groups: [staff] }\n    tool: query_database\n';
const FULL = `${HEAD}    sql:\n      read: [public.orders]\n`;
const SAM = { subject: 'sam', groups: ['staff'], claims: {}, authMethod: 'local' as const };
type Entry = { level: string; msg: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Judge sam's read of public.secrets (outside the grant) under the live policy on every turn; note each allow. */
function driveCalls(rt: { policy(): CompiledPolicy }) {
  const facts = analyzeSql('SELECT * FROM secrets');
  const allowed: string[] = [];
  let calls = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    const policy = rt.policy();
    if (decide(policy, SAM, { tool: 'query_database', connection: 'shop', args: {} }, facts).effect === 'allow' && allowed.at(-1) !== policy.version) allowed.push(policy.version);
    calls++;
    setImmediate(turn);
  };
  turn();
  return { allowed, calls: () => calls, stop: () => void (running = false) };
}

async function withWatcher(holdMs: number, body: (file: string, rt: Awaited<ReturnType<typeof startRuntime>>, logs: Entry[]) => Promise<void>) {
  const dir = writeWardenDir(CONFIG, { 'a.yaml': FULL });
  const rt = await startRuntime(dir.configPath, families);
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg) => logs.push({ level, msg }), { debounceMs: 30, holdMs, sighup: false });
  try {
    await body(join(dir.dir, 'policies', 'a.yaml'), rt, logs);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
}

test('an allow cut before its sql: block (valid YAML), then written in full 700 ms later, is never served cut', () =>
  withWatcher(2000, async (file, rt, logs) => {
    const calls = driveCalls(rt);
    try {
      writeFileSync(file, HEAD); // truncated in place at a line boundary: the grant now reads every table
      await sleep(700); // past the settle time: only the hold keeps the cut rule out
      writeFileSync(file, FULL);
      const mark = logs.length;
      await until(() => logs.slice(mark).some((l) => /^policy (reloaded|unchanged)/.test(l.msg)), 8000, 'the reload after the deploy completed');
      await sleep(300);
      calls.stop();
      assert.ok(calls.calls() > 50, `calls were driven throughout (${calls.calls()})`);
      assert.deepEqual(calls.allowed, [], 'the read of public.secrets was never allowed while the file was cut');
      assert.ok(rt.policy().rules[0]!.conditions.length === 1, 'the whole file is served in the end');
    } finally {
      calls.stop();
    }
  }));

test('an allow broadened on purpose applies after the bounded wait, and the log names what it no longer names', () =>
  withWatcher(600, async (file, rt, logs) => {
    writeFileSync(file, HEAD);
    await until(() => rt.policy().rules[0]!.conditions.length === 0, 8000, 'the broadened allow to apply');
    assert.ok(logs.some((l) => /^policy reload held/.test(l.msg)), `the reload was held first: ${JSON.stringify(logs)}`);
    const warn = logs.find((l) => l.level === 'warn' && /drops part of the running policy/.test(l.msg));
    assert.ok(warn, JSON.stringify(logs));
    assert.match(warn.msg, /allow rule staff no longer names sql\.read: public\.orders/);
  }));

test('an allow cut before its approval: block is held too: the call would run with no reviewer', async () => {
  const withApproval = `${FULL}    approval:\n      reviewers: { groups: [dba] }\n      notify: { webhook: 'https://hooks.example.com/services/HOOK-SECRET-42' }\n`;
  const dir = writeWardenDir(CONFIG, { 'a.yaml': withApproval });
  const rt = await startRuntime(dir.configPath, families);
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg) => logs.push({ level, msg }), { debounceMs: 30, holdMs: 600, sighup: false });
  try {
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), FULL);
    await until(() => !rt.policy().rules[0]!.approval, 8000, 'the edit to apply');
    assert.ok(logs.some((l) => /^policy reload held/.test(l.msg)), `the reload was held first: ${JSON.stringify(logs)}`);
    assert.ok(logs.some((l) => l.level === 'warn' && /allow rule staff no longer names approval\.reviewers\.groups: dba/.test(l.msg)), JSON.stringify(logs));
    assert.ok(!JSON.stringify(logs).includes('HOOK-SECRET-42'), `the webhook URL (a credential) is never logged: ${JSON.stringify(logs)}`);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('an allow being added, cut before its sql: block (valid YAML), then written in full 700 ms later, is never served cut', async () => {
  const other = 'rules:\n  - { id: other, effect: allow, who: { groups: [ops] }, tool: query_database }\n';
  const dir = writeWardenDir(CONFIG, { 'a.yaml': other });
  const rt = await startRuntime(dir.configPath, families);
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg) => logs.push({ level, msg }), { debounceMs: 30, holdMs: 2000, sighup: false });
  const calls = driveCalls(rt);
  const file = join(dir.dir, 'policies', 'a.yaml');
  const added = FULL.replace('rules:\n', other);
  try {
    writeFileSync(file, HEAD.replace('rules:\n', other)); // the new rule written up to its `tool:` line
    await sleep(700);
    writeFileSync(file, added);
    await until(() => rt.policy().rules.length === 2, 8000, 'the added rule to apply');
    await sleep(100);
    calls.stop();
    assert.ok(calls.calls() > 50, `calls were driven throughout (${calls.calls()})`);
    assert.deepEqual(calls.allowed, [], 'the read of public.secrets was never allowed while the new rule was cut');
    assert.equal(rt.policy().rules[1]!.conditions.length, 1, 'the whole rule is served');
    assert.ok(logs.some((l) => /^policy reload held: new allow rule staff/.test(l.msg)), JSON.stringify(logs));
    assert.ok(!logs.some((l) => l.level === 'warn'), `an added grant is not a loss: ${JSON.stringify(logs)}`);
  } finally {
    calls.stop();
    stop();
    await rt.close();
    dir.cleanup();
  }
});
