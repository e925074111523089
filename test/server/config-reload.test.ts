/**
 * A reload reads warden.yaml again, but only its `policies:` take effect: admins, rate limits,
 * identity and connections are bound at start. An admin who takes someone off `admins:` must
 * not read "policy unchanged" while that person keeps explain_call: the changed sections are
 * named and the watcher warns that they wait for a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime } from '../../src/server/runtime.js';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';
import { until } from '../support/http-warden.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { decide } from '../../src/policy/engine.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';

const BASE = 'transcripts: { store: sqlite:warden.db }\npolicies: [policies/*.yaml]\n';
const RULES = { 'a.yaml': 'rules:\n  - { id: r, effect: allow, who: { groups: [dev] }, tool: query_database, sql: { read: [public.t] } }\n' };

test('a reload names the warden.yaml sections that changed but apply only after a restart', async () => {
  const dir = writeWardenDir(`${BASE}admins: { subjects: [mallory] }\nrate_limits: { calls_per_minute: 10 }\n`, RULES);
  const rt = await startRuntime(dir.configPath, families);
  try {
    rt.reload();
    assert.deepEqual(rt.pendingRestart?.(), [], 'nothing changed');
    writeFileSync(dir.configPath, `${BASE}admins: { subjects: [] }\nrate_limits: { calls_per_minute: 10 }\n`);
    rt.reload();
    assert.deepEqual(rt.pendingRestart?.(), ['admins']);
    assert.deepEqual(rt.config.admins.subjects, ['mallory'], 'still the running value');
  } finally {
    await rt.close();
    dir.cleanup();
  }
});

test('the policy watcher warns when warden.yaml changed sections that wait for a restart', async () => {
  const dir = writeWardenDir(`${BASE}admins: { subjects: [mallory] }\n`, RULES);
  const rt = await startRuntime(dir.configPath, families);
  const logs: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  const stop = watchPolicies(rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), { debounceMs: 30, sighup: false });
  try {
    writeFileSync(dir.configPath, `${BASE}admins: { subjects: [] }\nrate_limits: { calls_per_minute: 5 }\n`);
    await until(() => logs.some((l) => l.level === 'warn' && /restart/.test(l.msg)), 5000, 'the restart warning');
    const w = logs.find((l) => l.level === 'warn' && /restart/.test(l.msg))!;
    assert.deepEqual(w.data?.sections, ['admins', 'rate_limits']);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('a reload that adds an hourly quota to a rule warns that the quota starts from zero', async () => {
  const dir = writeWardenDir(BASE, RULES);
  const rt = await startRuntime(dir.configPath, families);
  const logs: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  const stop = watchPolicies(rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), { debounceMs: 30, sighup: false });
  try {
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), 'rules:\n  - { id: r, effect: allow, who: { groups: [dev] }, tool: query_database, sql: { read: [public.t] }, limits: { rows_per_hour: 1000 } }\n');
    await until(() => logs.some((l) => l.level === 'warn' && /quota/.test(l.msg)), 5000, 'the quota warning');
    const w = logs.find((l) => l.level === 'warn' && /quota/.test(l.msg))!;
    assert.match(w.msg, /starts? from zero/);
    assert.deepEqual(w.data?.quotas, ['r: rows_per_hour']);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

const RULE_B = 'rules:\n  - { id: b, effect: allow, who: { groups: [ops] }, tool: query_database, sql: { read: [public.u] } }\n';
type Entry = { level: string; msg: string; data?: Record<string, unknown> };
const triggered = (logs: Entry[], name: string) => logs.filter((l) => String(l.data?.trigger ?? '').endsWith(`: ${name}`));

test('after a reload that moves `policies:` to a new folder, that folder is watched and the old one is let go', async () => {
  const dir = writeWardenDir(BASE, { 'old.yaml': RULES['a.yaml'] });
  mkdirSync(join(dir.dir, 'next'));
  writeFileSync(join(dir.dir, 'next', 'a.yaml'), RULES['a.yaml']);
  const rt = await startRuntime(dir.configPath, families);
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), { debounceMs: 30, sighup: false });
  try {
    writeFileSync(dir.configPath, BASE.replace('policies/*.yaml', 'next/*.yaml'));
    await until(() => rt.policy().files.some((f) => f.endsWith(join('next', 'a.yaml'))), 5000, 'the reload onto next/');
    writeFileSync(join(dir.dir, 'next', 'b.yaml'), RULE_B);
    await until(() => rt.policy().files.length === 2, 5000, 'next/b.yaml, a new file in the new folder, to be loaded without a restart');
    assert.deepEqual(rt.policyPatterns?.(), [join(dir.dir, 'next', '*.yaml')]);
    writeFileSync(join(dir.dir, 'policies', 'old.yaml'), RULE_B);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(triggered(logs, 'old.yaml'), [], 'the old folder is no longer watched');
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('when the new folder holds a broken file, the reload fails but the folder is watched: fixing the file reloads', async () => {
  const dir = writeWardenDir(BASE, RULES);
  mkdirSync(join(dir.dir, 'next'));
  writeFileSync(join(dir.dir, 'next', 'b.yaml'), 'rules: [\n');
  const rt = await startRuntime(dir.configPath, families);
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), { debounceMs: 30, sighup: false });
  try {
    const first = rt.policy().version;
    writeFileSync(dir.configPath, BASE.replace('policies/*.yaml', 'next/*.yaml'));
    await until(() => logs.some((l) => l.level === 'error' && /reload failed/.test(l.msg)), 5000, 'the failed reload');
    assert.equal(rt.policy().version, first, 'the last good policy stays');
    writeFileSync(join(dir.dir, 'next', 'b.yaml'), RULE_B);
    await until(() => rt.policy().files.some((f) => f.endsWith(join('next', 'b.yaml'))), 5000, 'the fixed file in the new folder to be loaded');
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('a reload judges the policy against the connections the server runs, not a warden.yaml rename that waits for a restart', async () => {
  const conf = (name: string) => `${BASE}connections:\n  ${name}: { type: postgres, url: env:UNUSED_SHOP_URL }\n`;
  const rules = (name: string) => `rules:
  - { id: staff, effect: allow, who: { groups: [staff] }, tool: query_database, sql: { read: [public.orders] } }
  - { id: not-contractors, effect: deny, who: { groups: [contractors] }, tool: query_database, on: [${name}] }
`;
  const dir = writeWardenDir(conf('shop'), { 'a.yaml': rules('shop') });
  const rt = await startRuntime(dir.configPath, families);
  try {
    const v0 = rt.policy().version;
    // The admin renames the connection and follows it in the policy; the server still serves "shop" until a restart.
    writeFileSync(dir.configPath, conf('shop-db'));
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), rules('shop-db'));
    assert.throws(() => rt.reload(), (e: unknown) => e instanceof ConfigError && /unknown connection "shop-db"/.test(e.message) && /restart/.test(e.message));
    assert.equal(rt.policy().version, v0, 'the running policy, whose deny covers the running "shop", stays');
    const p = { subject: 'carl', groups: ['staff', 'contractors'], claims: {}, authMethod: 'local' as const };
    const d = decide(rt.policy(), p, { tool: 'query_database', connection: 'shop', args: {} }, analyzeSql('SELECT * FROM orders'));
    assert.deepEqual([d.effect, d.ruleIds], ['deny', ['not-contractors']]);
  } finally {
    await rt.close();
    dir.cleanup();
  }
});

/*
 * Deploys that rewrite policy files non-atomically (git checkout, rsync without --delay-updates,
 * `cp` of a folder, an in-place write) can be caught half-way: the file holding the denies is
 * missing, or cut at a rule boundary (still valid YAML). A watcher-triggered reload waits for the
 * files to settle and holds a reload that would lose deny rules, so such a half-written policy is
 * never served; a deliberate removal applies after the bounded wait, with a warning. The calls are
 * driven continuously (a decision under the live policy on every turn of the event loop: the
 * watcher swaps the policy only in its own callbacks, so every policy in force is judged).
 */
const SHOP = `${BASE}connections:\n  shop: { type: postgres, url: env:UNUSED_SHOP_URL }\n`;
const ALLOW = '  - { id: staff, effect: allow, who: { groups: [staff] }, tool: query_database, sql: { read: [public.orders] } }\n';
const DENY = '  - { id: not-contractors, effect: deny, who: { groups: [contractors] }, tool: query_database }\n';
const CARL = { subject: 'carl', groups: ['staff', 'contractors'], claims: {}, authMethod: 'local' as const };

/** Judge carl's read of public.orders under the live policy on every turn until stopped; note each allow. */
function driveCalls(rt: { policy(): import('../../src/policy/types.js').CompiledPolicy }, timeline: unknown[]) {
  const facts = analyzeSql('SELECT * FROM orders');
  const allowed: { version: string; files: string[]; at: number }[] = [];
  let calls = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    const policy = rt.policy();
    const d = decide(policy, CARL, { tool: 'query_database', connection: 'shop', args: {} }, facts);
    calls++;
    if (d.effect === 'allow' && allowed.at(-1)?.version !== policy.version) {
      allowed.push({ version: policy.version, files: policy.files.map((f) => f.split(/[\\/]/).pop()!), at: timeline.length });
      timeline.push('allowed');
    }
    setImmediate(turn);
  };
  turn();
  return { allowed, calls: () => calls, stop: () => void (running = false) };
}

function watchWithLog(rt: Parameters<typeof watchPolicies>[0], opts: Parameters<typeof watchPolicies>[2] = { debounceMs: 30, sighup: false }) {
  const logs: Entry[] = [];
  const stop = watchPolicies(rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), opts);
  return { logs, stop };
}
const applied = (l: Entry) => /^policy (reloaded|unchanged)/.test(l.msg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A deploy that writes `files` in two steps, 300 ms apart (`midway`, then `done`), while carl's
 * read is judged on every turn: returns once the final reload applied, asserting no call the
 * deny covers was allowed meanwhile; `check` then looks at the live policy.
 */
async function neverServedMidway(files: Record<string, string>, midway: (dir: string) => void, done: (dir: string) => void, what: string, check: (rt: Awaited<ReturnType<typeof startRuntime>>, logs: Entry[]) => void) {
  const dir = writeWardenDir(SHOP, files);
  const rt = await startRuntime(dir.configPath, families);
  const { logs, stop } = watchWithLog(rt);
  const calls = driveCalls(rt, logs);
  try {
    midway(join(dir.dir, 'policies'));
    await sleep(300);
    done(join(dir.dir, 'policies'));
    const mark = logs.length;
    await until(() => logs.slice(mark).some(applied), 8000, 'the reload after the deploy completed');
    await sleep(300);
    calls.stop();
    assert.ok(calls.calls() > 50, `calls were driven throughout (${calls.calls()})`);
    assert.deepEqual(calls.allowed, [], `no call the deny covers was allowed while ${what}`);
    check(rt, logs);
  } finally {
    calls.stop();
    stop();
    await rt.close();
    dir.cleanup();
  }
}

test('a deny file deleted and written again 300 ms later (a git checkout) is never served without its denies', () =>
  neverServedMidway(
    { 'allow.yaml': `rules:\n${ALLOW}`, 'deny.yaml': `rules:\n${DENY}` },
    (d) => unlinkSync(join(d, 'deny.yaml')),
    (d) => writeFileSync(join(d, 'deny.yaml'), `rules:\n${DENY}`),
    'the file was rewritten',
    (rt, logs) => {
      assert.ok(rt.policy().files.some((f) => f.endsWith('deny.yaml')));
      assert.deepEqual(logs.filter((l) => l.level === 'warn' || l.level === 'error'), [], 'a rewrite that completed is not a dropped file');
    },
  ));

test('a policy file cut in place to a valid prefix (the allows only), then written in full 300 ms later, is never served cut', () =>
  neverServedMidway(
    { 'a.yaml': `rules:\n${ALLOW}${DENY}` },
    (d) => writeFileSync(join(d, 'a.yaml'), `rules:\n${ALLOW}`), // truncates in place, then writes the first rule
    (d) => writeFileSync(join(d, 'a.yaml'), `rules:\n${ALLOW}${DENY}`),
    'the file was cut',
    (rt) => assert.deepEqual(rt.policy().rules.map((r) => r.id), ['staff', 'not-contractors']),
  ));

test('a deny cut inside its own list (a block-style groups: list, still valid YAML), then written in full, is never served narrowed', () => {
  const deny = (groups: string[]) => `  - id: not-contractors\n    effect: deny\n    who:\n      groups:\n${groups.map((g) => `        - ${g}\n`).join('')}    tool: query_database\n`;
  const full = `rules:\n${ALLOW}${deny(['temps', 'contractors'])}`;
  return neverServedMidway(
    { 'a.yaml': full },
    // Cut after `- temps`: the rule keeps its id and still loads, but no longer names contractors.
    (d) => writeFileSync(join(d, 'a.yaml'), `rules:\n${ALLOW}  - id: not-contractors\n    effect: deny\n    who:\n      groups:\n        - temps\n`),
    (d) => writeFileSync(join(d, 'a.yaml'), full),
    'its list was cut',
    (rt) => assert.deepEqual(rt.policy().rules.find((r) => r.id === 'not-contractors')?.who?.groups, ['temps', 'contractors']),
  );
});

test('a deny narrowed on purpose applies after the bounded wait, and the log names what it no longer covers', async () => {
  const deny = (groups: string) => `  - { id: not-contractors, effect: deny, who: { groups: [${groups}] }, tool: query_database }\n`;
  const dir = writeWardenDir(SHOP, { 'a.yaml': `rules:\n${ALLOW}${deny('temps, contractors')}` });
  const rt = await startRuntime(dir.configPath, families);
  const { logs, stop } = watchWithLog(rt, { debounceMs: 30, holdMs: 600, sighup: false });
  try {
    writeFileSync(join(dir.dir, 'policies', 'a.yaml'), `rules:\n${ALLOW}${deny('temps')}`);
    await until(() => rt.policy().rules.find((r) => r.id === 'not-contractors')?.who?.groups?.length === 1, 8000, 'the narrowed deny to apply');
    const warn = logs.find((l) => l.level === 'warn' && /drops part of the running policy/.test(l.msg));
    assert.ok(warn, JSON.stringify(logs));
    assert.match(warn.msg, /deny rule not-contractors no longer covers who\.groups: contractors/);
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('a deny file deleted for good is dropped after the bounded wait, and the log warns naming it and its deny rules', async () => {
  const dir = writeWardenDir(SHOP, { 'allow.yaml': `rules:\n${ALLOW}`, 'deny.yaml': `rules:\n${DENY}` });
  const rt = await startRuntime(dir.configPath, families);
  const { logs, stop } = watchWithLog(rt);
  const calls = driveCalls(rt, logs);
  try {
    unlinkSync(join(dir.dir, 'policies', 'deny.yaml'));
    await until(() => !rt.policy().files.some((f) => f.endsWith('deny.yaml')), 10_000, 'the deletion to apply');
    await until(() => calls.allowed.length > 0, 5000, 'a call under the new policy');
    calls.stop();
    const warned = logs.findIndex((l) => l.level === 'warn' && /deny\.yaml/.test(l.msg));
    assert.ok(warned >= 0, `a warning names deny.yaml: ${JSON.stringify(logs)}`);
    assert.match(logs[warned]!.msg, /1 deny rule/);
    const held = logs.findIndex((l) => /^policy reload held/.test(l.msg));
    assert.ok(held >= 0 && held < warned, 'the reload was held first');
    assert.ok(calls.allowed[0]!.at > warned, 'nothing was allowed before the drop was applied and logged');
    assert.deepEqual(calls.allowed[0]!.files, ['allow.yaml']);
  } finally {
    calls.stop();
    stop();
    await rt.close();
    dir.cleanup();
  }
});

test('SIGHUP applies a deleted deny file at once, without the hold, and still names it in the log', async () => {
  const dir = writeWardenDir(SHOP, { 'allow.yaml': `rules:\n${ALLOW}`, 'deny.yaml': `rules:\n${DENY}` });
  const rt = await startRuntime(dir.configPath, families);
  // A debounce and a hold far beyond the wait below: only SIGHUP can apply the change in time.
  const opts = { debounceMs: 60_000, holdMs: 60_000 };
  const { logs, stop } = watchWithLog(rt, opts);
  try {
    unlinkSync(join(dir.dir, 'policies', 'deny.yaml'));
    process.kill(process.pid, 'SIGHUP');
    await until(() => !rt.policy().files.some((f) => f.endsWith('deny.yaml')), 5000, 'SIGHUP to apply the deletion');
    assert.ok(logs.some((l) => l.level === 'warn' && /deny\.yaml/.test(l.msg) && /1 deny rule/.test(l.msg)), 'the drop is named');
    assert.ok(!logs.some((l) => /^policy reload held/.test(l.msg)), 'SIGHUP is not held');
  } finally {
    stop();
    await rt.close();
    dir.cleanup();
  }
});
