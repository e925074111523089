/**
 * kubectl_exec's `sh -c SCRIPT`: after a denial, the same script reworded (other spacing, other
 * quoting) is the same command as it would run (the rebuilt script), and the deny cooldown
 * refuses it; another command still asks the reviewers. Approvals stay bound to the exact argv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kubectlExecTool } from '../../../tools/kubernetes/kubectl-exec.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';
import { openSqliteStore } from '../../../src/recorder/index.js';
import { createApprovalService, type GateResult } from '../../../src/approvals/index.js';
import type { Principal } from '../../../src/tool-api.js';
import type { Decision } from '../../../src/policy/types.js';
import { tempDir } from '../../recorder/fixtures.js';

const k = testCluster('execcool');
const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 3_600_000, wait: 0, ruleId: 'fix', deny_cooldown: 600_000 },
};

test('kubectl_exec: a reworded sh -c script is refused during the cooldown; the exact argv stays what approvals bind', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const svc = createApprovalService(store.approvals, { pollMs: 5 });
  const tool = kubectlExecTool(() => k.connector);
  k.server.store.addPod({ namespace: 'shop', name: 'db-0', labels: { app: 'db' }, containers: [{ name: 'app' }], files: {} });
  const exec = async (command: string[]): Promise<GateResult> => {
    const input = { connection: 'prod', namespace: 'shop', pod: 'db-0', container: 'app', command };
    const facts = await tool.parse(input as never, k.parseCtx);
    const cooldownArgs = tool.cooldownArgs?.(input as never, facts);
    return svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool: 'kubectl_exec', connection: 'prod', canonicalArgs: tool.canonicalArgs!(input as never, facts),
      ...(cooldownArgs ? { cooldownArgs } : {}), decision, factsSummary: facts.summary, signal: new AbortController().signal,
    });
  };
  const first = await exec(['sh', '-c', 'ls -l /var/log | head -n 5']);
  assert.equal((first as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  await svc.deny((first as { approvalId: string }).approvalId, dana, 'no');
  for (const script of ['ls  -l  "/var/log" |head -n 5', "'ls' -l /var/log | 'head' -n '5'"]) {
    const r = (await exec(['sh', '-c', script])) as { code: string; message: string };
    assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', `${script}: ${r.message}`);
    assert.match(r.message, /up to whitespace\/comments\/case/);
  }
  assert.equal(((await exec(['sh', '-c', 'ls -l /var/log | head -n 6'])) as { code: string }).code, 'WARDEN_APPROVAL_PENDING', 'another script');
  // Approvals: granted for one spelling, the other spelling asks its own.
  const a = await exec(['sh', '-c', 'cat /etc/hostname']);
  await svc.approve((a as { approvalId: string }).approvalId, dana);
  assert.equal(((await exec(['sh', '-c', 'cat  /etc/hostname'])) as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  assert.equal((await exec(['sh', '-c', 'cat /etc/hostname'])).granted, true);
});
