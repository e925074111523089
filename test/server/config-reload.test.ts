/**
 * A reload reads warden.yaml again, but only its `policies:` take effect: admins, rate limits,
 * identity and connections are bound at start. An admin who takes someone off `admins:` must
 * not read "policy unchanged" while that person keeps explain_call: the changed sections are
 * named and the watcher warns that they wait for a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startRuntime } from '../../src/server/runtime.js';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';
import { until } from '../support/http-warden.js';

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
