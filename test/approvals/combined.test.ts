/**
 * A call that several allow rules with `approval:` match needs every one of those approvals
 * (fail closed: the stricter terms are never dropped because a looser rule comes first in the
 * policy files). Driven through the real pipeline, a real SQLite store and the real approval
 * service: each matching approval rule gets its own single-use request bound to the same call,
 * a deny on any of them refuses the call, the requester approves none of them, every request
 * expires with the shortest matching rule, and the call waits the shortest `wait`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemJudge } from '../../src/pipeline/item-judge.js';
import { compilePolicy } from '../../src/policy/load.js';
import { decide } from '../../src/policy/engine.js';
import { explainCall, formatExplain } from '../../src/policy/explain.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, slackBody } from '../../src/approvals/index.js';
import type { ApprovalView } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import { approvalsCli, until } from './support.js';
import { probePipeline } from './probe-pipeline.js';
import { writeWardenDir } from '../support/warden-process.js';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { Decision } from '../../src/policy/types.js';

/** The looser rule comes first in file order; both match every probe call by a dev. */
const policyText = (devWait = '0s', secWait = '0s') => `
rules:
  - id: dev-ok
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [dev] }, approvals: 1, expires: 30m, wait: ${devWait} }
  - id: security-two
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [security] }, approvals: 2, expires: 10m, wait: ${secWait}, notify: { webhook: "https://hooks.example/security" } }
`;

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
// The requester is in both reviewer groups: self-approval must still be refused on each request.
const sam = p('sam', ['dev', 'security']);
const dana = p('dana', ['dev']);
const sec1 = p('sofia', ['security']);
const sec2 = p('omar', ['security']);

async function setup(t: { after: (fn: () => void) => void }, text = policyText()) {
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': text });
  const probe = await probePipeline(t, () => policy, sam);
  const { approvals } = probe;
  const call = async (what: string, signal = new AbortController().signal) => {
    const r = await probe.call(what, signal);
    return { text: r.content.map((c) => c.text).join('\n'), code: /^(WARDEN_[A-Z_]+)/.exec(r.content[0]?.text ?? '')?.[1] ?? null, isError: r.isError === true };
  };
  /** The open requests for one call, by the rule whose terms each carries. */
  const requests = async (what: string): Promise<Map<string, ApprovalView>> => {
    const all = (await approvals.list({ limit: 1000 })).filter((v) => v.call?.args.what === what && (v.state === 'pending' || v.state === 'approved'));
    return new Map(all.map((v) => [v.approval_rule!, v]));
  };
  return { call, ran: probe.ran, approvals, requests, store: probe.store, policy, notices: probe.notices, tool: probe.tool };
}

test('the looser approval first in file order does not run the call: every matching rule\'s approval is needed', async (t) => {
  const { call, ran, approvals, requests, store } = await setup(t);
  const first = await call('fix');
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING', first.text);
  const open = await requests('fix');
  assert.deepEqual([...open.keys()].sort(), ['dev-ok', 'security-two'], 'one request per matching approval rule, created at once');
  assert.match(first.text, /approval 1 of 2 \(rule dev-ok\)/);
  assert.match(first.text, /approval 2 of 2 \(rule security-two\)/);

  // The looser approval alone: the call must not run.
  await approvals.approve(open.get('dev-ok')!.id, dana, 'fine by dev');
  const second = await call('fix');
  assert.equal(second.code, 'WARDEN_APPROVAL_PENDING', second.text);
  assert.deepEqual(ran, [], 'the call ran with only the looser approval');
  assert.equal((await approvals.get(open.get('dev-ok')!.id))?.state, 'approved', 'the approved request was kept for the next attempt, not spent');
  assert.equal((await requests('fix')).get('security-two')?.id, open.get('security-two')!.id, 'the same pending request is reused, not a new one');

  // One of two security approvals: still not enough.
  await approvals.approve(open.get('security-two')!.id, sec1);
  assert.equal((await call('fix')).code, 'WARDEN_APPROVAL_PENDING');
  assert.deepEqual(ran, []);

  await approvals.approve(open.get('security-two')!.id, sec2, 'ok');
  const third = await call('fix');
  assert.equal(third.isError, false, third.text);
  assert.deepEqual(ran, ['fix'], 'runs once every approval is in');
  for (const rule of ['dev-ok', 'security-two']) assert.equal((await approvals.get(open.get(rule)!.id))?.state, 'used', `${rule} is consumed`);

  // Single use: the same call again needs both approvals anew.
  const replay = await call('fix');
  assert.equal(replay.code, 'WARDEN_APPROVAL_PENDING');
  assert.deepEqual(ran, ['fix']);
  const verified = await store.verify();
  assert.equal(verified.ok, true, JSON.stringify(verified.firstBroken));
});

test('a deny on any of the requests refuses the waiting call, and the requester approves none of them', async (t) => {
  const { call, ran, approvals, requests } = await setup(t, policyText('30s', '30s'));
  const waiting = call('drop');
  const open = await until(async () => {
    const m = await requests('drop');
    return m.size === 2 ? m : undefined;
  }, 10_000, 'both requests');
  for (const v of open.values()) await assert.rejects(approvals.approve(v.id, sam), /cannot approve/, 'no self-approval');
  await approvals.approve(open.get('dev-ok')!.id, dana);
  await approvals.deny(open.get('security-two')!.id, sec1, 'not today');
  const r = await waiting;
  assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', r.text);
  assert.match(r.text, /\(2 of 2, rule security-two\) was denied by sofia: not today/);
  assert.deepEqual(ran, []);
  // As with one approval, a denial refuses the call that waited; calling again at once is refused
  // for the deny cooldown (default 5m) without a new request, and never runs on what is left.
  const again = await call('drop');
  assert.equal(again.code, 'WARDEN_APPROVAL_DENIED', again.text);
  assert.match(again.text, /was denied by sofia: not today; the same call is not asked again until \S+Z/);
  assert.equal((await requests('drop')).get('security-two'), undefined, 'no new request for the reviewers');
  assert.equal((await requests('drop')).get('dev-ok')?.state, 'approved', 'the dev approval is kept, not spent');
  assert.deepEqual(ran, []);
});

test('every request of the combination expires with the shortest matching rule; the call waits the shortest wait', async (t) => {
  // dev-ok would wait an hour; security-two says not to wait: the call answers at once.
  const { call, requests } = await setup(t, policyText('1h', '0s'));
  const started = Date.now();
  const r = await call('slow');
  assert.equal(r.code, 'WARDEN_APPROVAL_PENDING');
  assert.ok(Date.now() - started < 20_000, 'the call did not wait for the longer wait');
  for (const v of (await requests('slow')).values()) {
    const life = Date.parse(v.expires_at) - Date.parse(v.created_at);
    assert.equal(life, 10 * 60_000, `${v.approval_rule} expires with the shortest rule (10m), not its own`);
  }
});

test('reviewers see the combination: each request names its rule and terms and the other requests the call needs', async (t) => {
  const { call, approvals, requests, notices } = await setup(t);
  await call('show');
  const open = await requests('show');
  const dev = (await approvals.get(open.get('dev-ok')!.id))!;
  assert.equal(dev.approval_rule, 'dev-ok');
  assert.deepEqual(dev.reviewers, { groups: ['dev'] });
  assert.deepEqual([dev.combination?.part, dev.combination?.of], [1, 2]);
  assert.deepEqual(dev.combination?.others.map((o) => [o.approval_rule, o.id, o.approvals_required, o.state]), [['security-two', open.get('security-two')!.id, 2, 'pending']]);
  const listed = (await approvals.list({ state: 'pending' })).find((v) => v.id === open.get('security-two')!.id)!;
  assert.deepEqual([listed.combination?.part, listed.combination?.others.map((o) => o.approval_rule)], [2, ['dev-ok']]);
  // The stricter rule's webhook announced its request as part 2 of 2 (the looser rule has no webhook).
  const requested = notices.filter((x) => x.n.event === 'requested');
  assert.deepEqual(requested.map((x) => [x.spec.webhook, x.n.approval.approval_rule, x.n.approval.combination?.part, x.n.approval.combination?.of]), [['https://hooks.example/security', 'security-two', 2, 2]]);
  const body = JSON.stringify(slackBody({ event: 'requested', seq: requested[0]!.n.seq, approval: requested[0]!.n.approval, call: requested[0]!.n.approval.call ?? null }));
  assert.match(body, /approval 2 of 2 for this call/);
  assert.match(body, /rule dev-ok/);
  // Once the call ran, its requests are used and no longer show a combination.
  await approvals.approve(open.get('dev-ok')!.id, dana);
  await approvals.approve(open.get('security-two')!.id, sec1);
  await approvals.approve(open.get('security-two')!.id, sec2);
  assert.equal((await call('show')).isError, false);
  assert.equal((await approvals.get(open.get('dev-ok')!.id))?.combination, undefined);
});

test('the decision lists every matching approval, explain shows each, and an item may not lean on an approval the call did not get', async (t) => {
  const { policy, tool } = await setup(t);
  const view = { tool: 'probe', connection: 'c', args: { connection: 'c', what: 'x' } };
  const d = decide(policy, sam, view, { family: 'probe', summary: 'x' });
  assert.deepEqual(d.approvals?.map((a) => [a.ruleId, a.approvals]), [['dev-ok', 1], ['security-two', 2]]);
  assert.equal(d.approval?.ruleId, 'dev-ok', 'approval stays the first requirement, for readers that only ask whether one is needed');
  const r = await explainCall({ policy, tools: [tool], connections: [{ name: 'c', type: 'probe' }] }, sam, 'probe', { connection: 'c', what: 'x' });
  assert.deepEqual(r.decision.approvals?.map((a) => a.ruleId), ['dev-ok', 'security-two']);
  const text = formatExplain(r);
  assert.match(text, /needs 2 approvals, each its own request/);
  assert.match(text, /approval 1 of 2 \(rule dev-ok\): 1 reviewer/);
  assert.match(text, /approval 2 of 2 \(rule security-two\): 2 reviewer/);
  // A call decided with only the looser approval cannot let an item through that needs the stricter one too.
  const onlyDev = { ...d, approvals: [d.approvals![0]!], approval: d.approvals![0]! };
  assert.equal(itemJudge(policy, sam, view, onlyDev).call({ family: 'probe', summary: 'x' }).allowed, false);
  assert.equal(itemJudge(policy, sam, view, d).call({ family: 'probe', summary: 'x' }).allowed, true);
});

test('`warden approvals show|list` and the UI card show each request\'s terms and the combination', async (t) => {
  const dir = writeWardenDir('transcripts: { store: sqlite:warden.db }\nconnections:\n  db: { type: postgres, url: env:UNUSED_URL }\npolicies: [policies/*.yaml]\n', { 'p.yaml': 'rules: []\n' });
  t.after(() => dir.cleanup());
  const need = (ruleId: string, groups: string[], approvals: number) => ({ reviewers: { groups }, approvals, expires: 600_000, wait: 0, ruleId });
  const d: Decision = { effect: 'allow', ruleIds: ['dev-ok', 'security-two'], reason: 'x', trace: [], alternatives: [], approvals: [need('dev-ok', ['dev'], 1), need('security-two', ['security'], 2)] };
  const store = openSqliteStore(dir.dbPath);
  let ids: string[];
  try {
    const svc = createApprovalService(store.approvals);
    const r = await svc.gate({ callId: 'c1', sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql: 'UPDATE t SET a = 1' }, decision: d, factsSummary: 'update; writes public.t', signal: new AbortController().signal });
    assert.equal(r.granted, false);
    ids = (await svc.list()).map((v) => v.id).reverse();
    const page = String(await approvalsBody(svc, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
    assert.match(page, /by dev \(rule dev-ok\)/);
    assert.match(page, /Combined:<\/strong> approval 1 of 2 for this call, which runs only when every one is approved; also needed: \S+ \(rule security-two, 0 of 2, pending\)/);
  } finally {
    await store.close();
  }
  const show = await approvalsCli(['show', ids[0]!, '--config', dir.configPath]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /terms: +rule dev-ok: 1 approval\(s\) by dev/);
  assert.match(show.out, new RegExp(`combined: +approval 1 of 2 for this call, which runs only when every one is approved; also needed: ${ids[1]} \\(rule security-two, 0 of 2, pending\\)`));
  const list = await approvalsCli(['list', '--config', dir.configPath]);
  assert.match(list.out, /0\/2 \(2 of 2\)/);
  assert.match(list.out, /0\/1 \(1 of 2\)/);
});
