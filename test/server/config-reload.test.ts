/**
 * A reload reads warden.yaml again, but only its `policies:` take effect: admins, rate limits,
 * identity and connections are bound at start. An admin who takes someone off `admins:` must
 * not read "policy unchanged" while that person keeps explain_call: the changed sections are
 * named and the watcher warns that they wait for a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
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
