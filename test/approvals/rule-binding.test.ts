/**
 * An approval binds the approving rule as it was (a canonical hash of its compiled form: who,
 * tools, connections, condition blocks). Found: a reload that widened the rule itself (a
 * Kubernetes rule's `containers:` list, a rule's `on:` connections) left an approval given under
 * the narrower rule usable: a call already waiting ran on it, and so did the identical call made
 * again. Real SQLite store, the policy compiled from YAML with the tools' condition blocks, the
 * service as the pipeline uses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { compilePolicy } from '../../src/policy/load.js';
import { createApprovalService, type GateInput } from '../../src/approvals/index.js';
import { ruleDigest } from '../../src/approvals/rule-terms.js';
import { families } from '../../tools/index.js';
import type { ConditionSpec, Principal } from '../../src/tool-api.js';
import type { CompiledPolicy, Decision } from '../../src/policy/types.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const conditions: ConditionSpec[] = [...new Map(families.flatMap((f) => f.conditions).map((c) => [c.key, c])).values()];
const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const policyOf = (containers: string, lead = ''): CompiledPolicy =>
  compilePolicy(['p.yaml'], conditions, {
    'p.yaml': `${lead}rules:
  - id: k8s-exec
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    on: [prod]
    kubernetes: { namespaces: [shop], containers: [${containers}] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 20s }
`,
  });
const need = (wait: number) => ({ reviewers: { groups: ['dba'] }, approvals: 1, expires: 1_800_000, wait, ruleId: 'k8s-exec' });
const decision = (wait: number): Decision => ({ effect: 'allow', ruleIds: ['k8s-exec'], reason: 'x', trace: [], alternatives: [], approvals: [need(wait)], approval: need(wait) });

function setup(t: { after: (fn: () => void) => void }) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  const state = { live: policyOf('app') };
  const svc = createApprovalService(store.approvals, { pollMs: 5, policy: () => state.live });
  const gate = (callId: string, wait: number, more: Partial<GateInput> = {}) =>
    svc.gate({
      callId, sessionId: 's1', principal: sam, tool: 'kubectl_exec', connection: 'prod',
      canonicalArgs: { connection: 'prod', namespace: 'shop', pod: 'web-1', container: 'app', command: ['ls', '/app'] },
      decision: decision(wait), factsSummary: 'exec ls', signal: new AbortController().signal, ...more,
    });
  const pending = () => until(async () => (await store.approvals.list({ limit: 100 })).find((r) => r.state === 'pending'), 15_000, 'the request');
  return { store, svc, gate, state, pending };
}

test('the rule hash is the compiled rule\'s scope: a widened containers list changes it, a moved line or a new reason does not', () => {
  const a = policyOf('app').rules[0]!;
  assert.notEqual(ruleDigest(a), ruleDigest(policyOf('app, debug').rules[0]!));
  assert.equal(ruleDigest(a), ruleDigest(policyOf('app', '# moved\n\n').rules[0]!));
  assert.match(ruleDigest(a), /^sha256:[0-9a-f]{64}$/);
});

test('a call waiting when a reload widens its approving rule does not run on the approval given under the narrower rule', async (t) => {
  const { store, svc, gate, state, pending } = setup(t);
  const waiting = gate('c1', 20_000);
  const req = await pending();
  assert.equal(req.ruleHash, ruleDigest(state.live.rules[0]!), 'the request records the rule it was made under');
  state.live = policyOf('app, debug');
  await svc.approve(req.id, dana);
  const r = await waiting;
  assert.equal(r.granted, false, 'the waiting call ran on an approval given under the narrower rule');
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_DENIED');
  assert.match((r as { message: string }).message, /rule k8s-exec changed since request .*calling again asks anew/);
  assert.equal((await store.approvals.get(req.id))?.state, 'voided', 'never used, voided with the refusal');
});

test('an approval given before a reload that widens its rule does not run the identical call made after it: asked anew', async (t) => {
  const { store, svc, gate, state, pending } = setup(t);
  const first = await gate('c1', 0);
  assert.equal((first as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  const req = await pending();
  await svc.approve(req.id, dana);
  state.live = policyOf('app, debug');
  const again = await gate('c2', 0);
  assert.equal(again.granted, false, 'the identical call ran on an approval given under the narrower rule');
  assert.notEqual((again as { approvalId?: string }).approvalId, req.id, 'a new request under the widened rule');
  assert.equal((await store.approvals.get(req.id))?.state, 'approved', 'the old approval is not used');
});

test('a reload that leaves the rule as it was (a moved line) changes nothing', async (t) => {
  const { svc, gate, state, pending } = setup(t);
  const waiting = gate('c1', 20_000);
  const req = await pending();
  state.live = policyOf('app', '# moved\n\n');
  await svc.approve(req.id, dana);
  assert.deepEqual(await waiting, { granted: true, approvalId: req.id, spent: [req.id] });
});

test('a request recorded without a rule hash (before schema v17 / v14) is not taken up: the identical call asks anew', async (t) => {
  const { store, svc, gate } = setup(t);
  // Made and approved as an older Warden stored it: no rule hash.
  const legacy = createApprovalService(store.approvals, { pollMs: 5 });
  const first = await legacy.gate({
    callId: 'c0', sessionId: 's1', principal: sam, tool: 'kubectl_exec', connection: 'prod',
    canonicalArgs: { connection: 'prod', namespace: 'shop', pod: 'web-1', container: 'app', command: ['ls', '/app'] },
    decision: decision(0), factsSummary: 'exec ls', signal: new AbortController().signal,
  });
  const old = (first as { approvalId: string }).approvalId;
  assert.equal((await store.approvals.get(old))?.ruleHash, null);
  await svc.approve(old, dana);
  const again = await gate('c1', 0);
  assert.equal(again.granted, false);
  assert.notEqual((again as { approvalId?: string }).approvalId, old);
  assert.equal((await store.approvals.get(old))?.state, 'approved', 'never used');
});
