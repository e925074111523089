/**
 * A call that needs several approvals runs on all of them or on none: the requests of the
 * combination are checked and used up in one store transaction, so a request that expired, or
 * was used by another call, at the moment of use refuses the call and leaves the others usable.
 * The requests are linked when they are made: a request reused after a policy reload joins the
 * new combination, and every view shows the same combination the gate waits on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { ApprovalStore } from '../../src/recorder/index.js';
import { canonicalCall, createApprovalService, type GateResult } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { tempDir } from '../recorder/fixtures.js';

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const dana = p('dana', ['dev']);
const sofia = p('sofia', ['security']);
const omar = p('omar', ['security']);
const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const MIN = 60_000;

const need = (ruleId: string, groups: string[], approvals: number) => ({ reviewers: { groups }, approvals, expires: 10 * MIN, wait: 0, ruleId });
const both: Decision = { effect: 'allow', ruleIds: ['dev-ok', 'security-two'], reason: 'x', trace: [], alternatives: [], approvals: [need('dev-ok', ['dev'], 1), need('security-two', ['security'], 2)] };
const devOnly: Decision = { effect: 'allow', ruleIds: ['dev-ok'], reason: 'x', trace: [], alternatives: [], approvals: [need('dev-ok', ['dev'], 1)] };

/**
 * A SQLite store behind the approval service on a test clock; `onUse` runs at the moment the
 * gate uses up approvals (whatever store method it calls for that) and may change the `at` the
 * store is given: what happens "between" the gate's last check and the use.
 */
function setup(t: { after: (fn: () => void) => void }) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  const clock = { ms: T0 };
  const hooks: { onUse?: (at: string) => Promise<string> } = {};
  const tables = new Proxy(store.approvals, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      if (prop !== 'consume' && prop !== 'consumeAll') return v.bind(target);
      return async (...args: unknown[]) => {
        const hook = hooks.onUse;
        if (hook) args[2] = await hook(String(args[2]));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as ApprovalStore;
  const svc = createApprovalService(tables, { now: () => clock.ms, pollMs: 5 });
  const gate = (callId: string, decision: Decision = both): Promise<GateResult> =>
    svc.gate({ callId, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql: 'UPDATE t SET a = 1' }, decision, factsSummary: 'update', signal: new AbortController().signal });
  /** The requests the gate waits on, by rule (from a pending result's message). */
  const ids = async (): Promise<Map<string, string>> => {
    const open = (await svc.list({ limit: 100 })).filter((v) => v.state === 'pending' || v.state === 'approved').reverse();
    return new Map(open.map((v) => [v.approval_rule!, v.id]));
  };
  const approveAll = async (dev: string, sec: string) => {
    await svc.approve(dev, dana);
    await svc.approve(sec, sofia);
    await svc.approve(sec, omar);
  };
  return { store, svc, gate, ids, approveAll, clock, hooks };
}

test('one request of the combination used by another call at the moment of use: the call is refused and the other stays approved, unused', async (t) => {
  const { svc, gate, ids, approveAll, hooks, store } = setup(t);
  assert.equal((await gate('c1')).granted, false);
  const first = await ids();
  const dev = first.get('dev-ok')!;
  const sec = first.get('security-two')!;
  await approveAll(dev, sec);
  // Another call spends the security request just as this call uses the combination.
  let spent = false;
  hooks.onUse = async (at) => {
    if (!spent) (spent = true), assert.equal(await store.approvals.consume(sec, 'intruder', at), true);
    return at;
  };
  const r = await gate('c2');
  hooks.onUse = undefined;
  assert.equal(r.granted, false);
  assert.match((r as { message: string }).message, /already used by another call/);
  const devRow = await svc.get(dev);
  assert.equal(devRow?.state, 'approved', 'the dev approval was not spent on a call that did not run');
  assert.equal((await store.approvals.get(dev))?.usedByCall, null);
  // It still serves the next attempt, with a new security request.
  assert.equal((await gate('c3')).granted, false);
  const again = await ids();
  assert.equal(again.get('dev-ok'), dev, 'the approved dev request is reused');
  await svc.approve(again.get('security-two')!, sofia);
  await svc.approve(again.get('security-two')!, omar);
  const ok = await gate('c4');
  assert.deepEqual(ok, { granted: true, approvalId: dev, approvalIds: [dev, again.get('security-two')!], spent: [dev, again.get('security-two')!] });
  assert.equal((await store.verify()).ok, true);
});

test('one request of the combination expired at the moment of use: the call is refused and the other stays usable', async (t) => {
  const { svc, gate, ids, approveAll, clock, hooks, store } = setup(t);
  // The security request is made first (expires at T0+10m); the dev request later (T0+15m).
  assert.equal((await gate('c1')).granted, false);
  const first = await ids();
  const sec = first.get('security-two')!;
  await svc.deny(first.get('dev-ok')!, dana, 'not yet');
  clock.ms = T0 + 5 * MIN;
  assert.equal((await gate('c2')).granted, false);
  const dev = (await ids()).get('dev-ok')!;
  assert.notEqual(dev, first.get('dev-ok'));
  assert.equal((await ids()).get('security-two'), sec, 'the security request is reused');
  await approveAll(dev, sec);
  // Both usable when the gate checks (T0+9m); by the moment of use the security request expired.
  clock.ms = T0 + 9 * MIN;
  hooks.onUse = async () => new Date(T0 + 10 * MIN + 1000).toISOString();
  const r = await gate('c3');
  hooks.onUse = undefined;
  assert.equal(r.granted, false);
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED', JSON.stringify(r));
  assert.equal((await svc.get(dev))?.state, 'approved', 'the dev approval was not spent on a call that did not run');
  assert.equal((await store.approvals.get(dev))?.usedByCall, null);
  assert.notEqual((await svc.get(sec))?.state, 'used');
  assert.equal((await store.verify()).ok, true);
});

test('a combination is used up whole, once: a second call with the same arguments is refused', async (t) => {
  const { svc, gate, ids, approveAll, store } = setup(t);
  assert.equal((await gate('c1')).granted, false);
  const m = await ids();
  const dev = m.get('dev-ok')!;
  const sec = m.get('security-two')!;
  await approveAll(dev, sec);
  assert.deepEqual(await gate('c2'), { granted: true, approvalId: dev, approvalIds: [dev, sec], spent: [dev, sec] });
  for (const id of [dev, sec]) {
    const row = await store.approvals.get(id);
    assert.deepEqual([row?.state, row?.usedByCall], ['used', 'c2']);
  }
  const again = await gate('c3');
  assert.equal(again.granted, false);
  assert.equal((again as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  assert.equal((await svc.get(dev))?.state, 'used');
});

test('a request reused after a reload that adds a rule joins the new combination: reviewers of either see both', async (t) => {
  const { svc, gate, ids, store } = setup(t);
  // Under the first policy only dev-ok matched: the request's rule ids name that rule alone.
  assert.equal((await gate('c1', devOnly)).granted, false);
  const dev = (await ids()).get('dev-ok')!;
  assert.equal((await svc.get(dev))?.combination, undefined);
  // A reload adds security-two: the open dev request is reused, a security request is made.
  assert.equal((await gate('c2', both)).granted, false);
  const sec = (await ids()).get('security-two')!;
  const devView = await svc.get(dev);
  assert.deepEqual([devView?.combination?.part, devView?.combination?.of, devView?.combination?.others.map((o) => o.id)], [1, 2, [sec]]);
  const secView = await svc.get(sec);
  assert.deepEqual([secView?.combination?.part, secView?.combination?.of, secView?.combination?.others.map((o) => o.id)], [2, 2, [dev]]);
  const listed = (await svc.list()).find((v) => v.id === dev);
  assert.deepEqual(listed?.combination?.others.map((o) => o.id), [sec]);
  assert.equal((await store.verify()).ok, true);
});

test('requests stored before the link show their combination by inference; the gate links them when it takes them up', async (t) => {
  const { svc, gate, clock, store } = setup(t);
  const call = canonicalCall('query_database', 'db', { connection: 'db', sql: 'UPDATE t SET a = 1' });
  const legacy = (id: string, rule: string, groups: string[], approvals: number) =>
    store.approvals.create({
      id, requester: 'sam', requesterGroups: ['dev'], requesterAuth: 'local', tool: 'query_database', connection: 'db', canonicalCall: call.text, callHash: call.hash,
      summary: 'update', ruleIds: ['dev-ok', 'security-two'], approvalRule: rule, approvalsRequired: approvals, reviewers: { groups }, confirm: null,
      callId: 'c0', sessionId: 's1', createdAt: new Date(clock.ms).toISOString(), expiresAt: new Date(clock.ms + 10 * MIN).toISOString(),
    });
  await legacy('old-dev', 'dev-ok', ['dev'], 1);
  await legacy('old-sec', 'security-two', ['security'], 2);
  assert.equal((await store.approvals.get('old-dev'))?.combinationId, null);
  const inferred = await svc.get('old-dev');
  assert.deepEqual([inferred?.combination?.part, inferred?.combination?.others.map((o) => o.id)], [1, ['old-sec']]);
  // The gate takes both up again (nothing new is made) and stores their link.
  assert.equal((await gate('c1')).granted, false);
  const [dev, sec] = [await store.approvals.get('old-dev'), await store.approvals.get('old-sec')];
  assert.ok(dev?.combinationId);
  assert.equal(sec?.combinationId, dev?.combinationId);
  assert.equal((await svc.list()).length, 2, 'no new request was made');
  assert.deepEqual((await svc.get('old-sec'))?.combination?.others.map((o) => o.id), ['old-dev']);
  assert.equal((await store.verify()).ok, true);
});
