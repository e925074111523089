/**
 * Every surface counts approving people as the gate does (approval-rules.ts approvingPersons).
 * Found: a request needing 2 that holds one approval recorded before reviewer names (pre-v16)
 * and one named approval is 1 of 2 to the gate (the name-less one may be the same person), but
 * `approval_status`, the view the CLI, UI and webhooks are sent and the decision notice counted
 * raw approve decisions: "2 of 2" for a request that stays pending. A real SQLite store taken back
 * to the v15 shape, the real approval service, the approval_status tool and the real webhook
 * notifier posting to a receiver on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, createWebhookNotifier } from '../../src/approvals/index.js';
import { approvalStatusTool } from '../../src/pipeline/builtins/approval-status.js';
import { compilePolicy } from '../../src/policy/load.js';
import type { ExecContext, Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';
import { NAMELESS_RULE_YAML, seedNamelessApproval } from '../support/nameless-approval.js';

const ana: Principal = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana@corp.example', groups: ['dba'], claims: {}, authMethod: 'local' };

async function receiver() {
  const bodies: Record<string, any>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => (bodies.push(JSON.parse(body) as Record<string, any>), res.writeHead(200).end()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('one name-less and one named approval: 1 of 2 in the view, approval_status and the JSON and Slack notices', async (t) => {
  const [json, slack] = [await receiver(), await receiver()];
  t.after(() => Promise.all([json.close(), slack.close()]).then(() => undefined));
  const path = join(tempDir(t), 'w.db');
  await seedNamelessApproval(path);
  const notify = (hook: string, format: string) => `notify: { webhook: "${hook}", format: ${format} }`;
  const yaml = NAMELESS_RULE_YAML.replace('expires: 30m }', `expires: 30m, ${notify(json.url, 'json')} }`);
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': yaml });
  const store = openSqliteStore(path);
  t.after(() => void store.close());
  const notifier = createWebhookNotifier({ baseDelayMs: 5 });
  const svc = createApprovalService(store.approvals, { policy: () => policy, notifier, personClaims: ['email'] });

  const view = await svc.approve('r1', dana, 'after the upgrade');
  assert.equal(view.state, 'pending', 'the gate counts one person');
  assert.equal(view.decisions.filter((d) => d.decision === 'approve').length, 2, 'two approve decisions are listed');
  assert.equal(view.approvals, 1, 'the view counts people as the gate does');
  assert.equal((await svc.get('r1'))?.approvals, 1);
  assert.equal((await svc.list({})).find((v) => v.id === 'r1')?.approvals, 1);

  // approval_status, as the requester's agent calls it.
  const tool = approvalStatusTool(svc);
  const ctx = { principal: ana } as unknown as ExecContext;
  const one = await tool.execute({ approval_id: 'r1' }, undefined as never, ctx);
  assert.equal((one as { data: { approvals: string } }).data.approvals, '1 of 2');
  const all = await tool.execute({}, undefined as never, ctx);
  assert.deepEqual((all as { data: { approvals: { approvals: string }[] } }).data.approvals.map((a) => a.approvals), ['1 of 2']);

  // The webhook notice of the decision (the generic JSON body).
  await notifier.drain(5000);
  const decision = json.bodies.find((b) => b.event === 'decision');
  assert.ok(decision, JSON.stringify(json.bodies));
  assert.equal(decision.approval.approvals, 1, 'the notice\'s approval counts people');
  assert.match(decision.text, /voted approve on a request by ana \(1 of 2 approvals, pending\)/);

  // A second named reviewer: two people at least; the Slack notice says so.
  const slackPolicy = compilePolicy(['p.yaml'], [], { 'p.yaml': NAMELESS_RULE_YAML.replace('expires: 30m }', `expires: 30m, ${notify(slack.url, 'slack')} }`) });
  const svc2 = createApprovalService(store.approvals, { policy: () => slackPolicy, notifier, personClaims: ['email'] });
  const done = await svc2.approve('r1', { subject: '00u7kim', groups: ['dba'], claims: { email: 'kim@corp.example' }, authMethod: 'local' });
  assert.equal(done.state, 'approved');
  assert.equal(done.approvals, 2);
  await notifier.drain(5000);
  const texts = slack.bodies.map((b) => String(b.text));
  assert.ok(texts.some((x) => /voted approve on a request by ana \(2 of 2 approvals, approved\)/.test(x)), texts.join('\n'));
  assert.equal((await store.verify()).ok, true);
});
