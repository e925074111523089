/**
 * End to end over Streamable HTTP: rate limits trip, are recorded and recover; policy hot reload
 * swaps atomically (a broken file keeps the old policy, and the transcript records the version
 * of every call); graceful shutdown lets an in-flight call finish and records it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watchPolicies } from '../../src/server/policy-watch.js';
import { connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { lockTable, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users, public.slow], functions: [count] }
  - id: ci-limited
    effect: allow
    who: { groups: [ci] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.slow] }
    limits: { concurrent: 1, calls_per_minute: 4 }
`;

const AUDITORS = `
rules:
  - id: auditors-read
    effect: allow
    who: { groups: [auditors] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users], functions: [count] }
`;

let w: HttpWarden;
const logs: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
let stopWatch: () => void = () => undefined;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  stopWatch = watchPolicies(w.rt, (level, msg, data) => logs.push({ level, msg, ...(data ? { data } : {}) }), { debounceMs: 50, sighup: false });
});
after(async () => {
  stopWatch();
  await w?.stop();
});

describe('HTTP governance', () => {
  test('a rule limit trips with WARDEN_RATE_LIMITED, is recorded, and recovers', async () => {
    const ci = await connectHttpAgent(w.url, await w.token('ci-bot', ['ci']));
    try {
      const release = await lockTable(w.db, 'slow');
      const first = ci.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      await until(() => w.calls().some((c) => c.status === null && c.tool === 'query_database'), 5000, 'the first call to be running');
      const second = await ci.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      assert.equal(second.isError, true);
      assert.match(second.text, /WARDEN_RATE_LIMITED/);
      assert.match(second.text, /concurrent/);
      await release();
      const r1 = await first;
      assert.equal(r1.isError, false, r1.text);
      const third = await ci.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      assert.equal(third.isError, false, `recovered once the first call ended: ${third.text}`);
      // calls_per_minute: 4 counts admitted calls (two so far): two more fit, then it trips.
      for (let i = 0; i < 2; i++) assert.equal((await ci.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' })).isError, false);
      const over = await ci.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      assert.match(over.text, /WARDEN_RATE_LIMITED/);
      assert.match(over.text, /calls per minute/);
    } finally {
      await ci.close();
    }
    const limited = w.calls().filter((c) => c.error_code === 'WARDEN_RATE_LIMITED');
    assert.ok(limited.length >= 2, `rate-limited calls are recorded: ${limited.length}`);
    assert.ok(limited.every((c) => c.status === 'error'));
    // Another principal under the same rule has its own budget.
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
    try {
      assert.equal((await ana.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' })).isError, false);
    } finally {
      await ana.close();
    }
  });

  test('hot reload: a new rule takes effect, the transcript records the new version, a broken file keeps it', async () => {
    const ivy = await connectHttpAgent(w.url, await w.token('ivy', ['auditors']));
    try {
      const v0 = w.rt.policy().version;
      assert.ok(!(await ivy.tools()).includes('query_database'));
      const denied = await ivy.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(denied.isError, true);

      writeFileSync(join(w.dir.dir, 'policies', 'auditors.yaml'), AUDITORS);
      await until(() => w.rt.policy().version !== v0, 5000, 'the policy to reload');
      const v1 = w.rt.policy().version;
      assert.ok(logs.some((l) => l.msg === 'policy reloaded' && l.data?.policy_version === v1));
      assert.ok((await ivy.tools()).includes('query_database'), 'discovery follows the new policy in the same session');
      const ok = await ivy.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(ok.isError, false, ok.text);
      const versions = w.calls().slice(-2).map((c) => c.policy_version);
      assert.deepEqual(versions, [v0, v1], 'each call records the policy version it ran under');

      const before = logs.length;
      writeFileSync(join(w.dir.dir, 'policies', 'auditors.yaml'), AUDITORS.replace('effect: allow', 'effect: maybe'));
      await until(() => logs.slice(before).some((l) => l.msg.startsWith('policy reload failed')), 5000, 'the failed reload to be logged');
      const failure = logs.slice(before).find((l) => l.msg.startsWith('policy reload failed'))!;
      assert.match(String(failure.data?.message), /auditors\.yaml:\d+/, 'the log says which file and line');
      assert.equal(w.rt.policy().version, v1, 'the last good policy stays');
      const still = await ivy.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' });
      assert.equal(still.isError, false, still.text);

      unlinkSync(join(w.dir.dir, 'policies', 'auditors.yaml'));
      // A deleted policy file applies after the watcher's hold (policy-watch.ts, about 2 s).
      await until(() => w.rt.policy().version === v0, 10_000, 'the removal to reload');
      assert.match((await ivy.call('query_database', { connection: 'analytics', sql: 'SELECT count(*) FROM users' })).text, /WARDEN_UNKNOWN_TOOL|WARDEN_DENIED/);
    } finally {
      await ivy.close();
    }
  });

  test('an in-flight call finishes under the policy it started with', async () => {
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
    try {
      const release = await lockTable(w.db, 'slow');
      const v0 = w.rt.policy().version;
      const running = ana.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      await until(() => w.calls().some((c) => c.status === null), 5000, 'the call to be running');
      writeFileSync(join(w.dir.dir, 'policies', 'zz-deny.yaml'), 'rules:\n  - { id: freeze, effect: deny, tool: query_database, reason: frozen }\n');
      await until(() => w.rt.policy().version !== v0, 5000, 'the deny policy to load');
      await release();
      const r = await running;
      assert.equal(r.isError, false, r.text);
      const after = await ana.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
      assert.match(after.text, /frozen/);
      unlinkSync(join(w.dir.dir, 'policies', 'zz-deny.yaml'));
      await until(() => w.rt.policy().version === v0, 10_000, 'the deny policy to go (after the hold)');
    } finally {
      await ana.close();
    }
  });

  test('graceful shutdown lets an in-flight call finish and records it', async () => {
    const ana = await connectHttpAgent(w.url, await w.token('ana', ['analysts']));
    const release = await lockTable(w.db, 'slow');
    const running = ana.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM slow' });
    await until(() => w.calls().some((c) => c.status === null), 5000, 'the call to be running');
    const closing = w.http.close();
    await new Promise((r) => setTimeout(r, 100));
    const refused = await rawRequest(w.url, { headers: mcpHeaders(await w.token('ana', ['analysts'])), body: initializeBody() }).catch((e: Error) => ({ status: 0, body: e.message }));
    assert.notEqual(refused.status, 200, 'no new work is accepted while shutting down');
    await release();
    const r = await running;
    assert.equal(r.isError, false, r.text);
    await closing;
    const last = w.calls().at(-1)!;
    assert.equal(last.status, 'ok', 'the in-flight call was recorded with its outcome');
    await ana.close();
  });
});
