/**
 * A reviewer who approved a call hears when a policy reload voided that approval (the webhook
 * gets a `voided` notice with the live policy's refusal), as it heard of the approval itself.
 * Driven through the real pipeline, a real SQLite store and the real approval service, with the
 * policy swapped while the call waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { jsonBody, slackBody } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import { until } from './support.js';
import { probePipeline } from './probe-pipeline.js';

const RULE = `  - id: fix
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 20s, notify: { webhook: "https://hooks.example/dba" } }
`;
const FREEZE = `  - { id: freeze, effect: deny, who: { groups: [dev] }, tool: probe, reason: incident freeze }\n`;
const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const dana = p('dana', ['dba']);

test('a reload that refuses a waiting call notifies the rule\'s webhook that its approval was voided, with the refusal', async (t) => {
  let policy = compilePolicy(['p.yaml'], [], { 'p.yaml': `rules:\n${RULE}` });
  const { ran, notices, approvals, call } = await probePipeline(t, () => policy, sam);
  const waiting = call('fix');
  await until(() => notices.find((x) => x.n.event === 'requested'), 5000, 'the request');
  const id = notices.find((x) => x.n.event === 'requested')!.n.approval.id;
  // The freeze lands while the call waits; then the reviewer approves.
  policy = compilePolicy(['p.yaml'], [], { 'p.yaml': `rules:\n${RULE}${FREEZE}` });
  await approvals.approve(id, dana, 'ok');
  const r = await waiting;
  assert.equal(r.isError, true);
  assert.deepEqual(ran, []);
  assert.equal((await approvals.get(id))?.state, 'voided');
  const voided = notices.filter((x) => x.n.event === 'voided');
  assert.equal(voided.length, 1, JSON.stringify(notices.map((x) => x.n.event)));
  assert.equal(voided[0]!.spec.webhook, 'https://hooks.example/dba');
  assert.equal(voided[0]!.n.approval.id, id);
  assert.equal(voided[0]!.n.approval.state, 'voided');
  const body = jsonBody(voided[0]!.n);
  assert.equal(body.event, 'voided');
  assert.match(String(body.text), /is now voided.*freeze/);
  assert.match(JSON.stringify(slackBody(voided[0]!.n)), /voided/);
});
