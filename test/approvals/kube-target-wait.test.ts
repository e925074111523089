/**
 * A kubernetes call held for approval is bound to the cluster its connection reached when it
 * asked (connection-target.ts), and that target is read again just before the approvals are
 * used: a certificate-authority file swapped on disk while the call waited (another CA at the
 * same path: another server trusted) voids the approvals, and nothing runs. Found: the target
 * was read only when the request was made, so the call ran against whatever the CA file held
 * after the approval, without noticing. The same file rewritten with the same bytes runs.
 * A real `warden serve`, the test API server, one SQLite store, the reviewer CLI as its own process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { startTestCluster, TOKENS } from '../support/kube-apiserver/warden-setup.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { approvalsCli, until } from './support.js';

const POLICY = `rules:
  - id: configmaps-with-approval
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod]
    kubernetes: { namespaces: [shop], kinds: [configmaps] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 30s }
`;

let cluster: KubeApiServer;
let other: KubeApiServer;
let dir: WardenDir;
let caPath: string;

before(async () => {
  cluster = await startTestCluster();
  other = await startTestCluster();
  dir = writeWardenDir('', { 'p.yaml': POLICY });
  caPath = join(dir.dir, 'ca.pem');
  writeFileSync(caPath, cluster.pki.caCert);
  // The kubeconfig names its CA by file, as an admin's often does.
  const kube = cluster.kubeconfig({ token: TOKENS.good }).replace(/certificate-authority-data: .*/, `certificate-authority: ${caPath}`);
  writeFileSync(join(dir.dir, 'kube.yaml'), kube, { mode: 0o600 });
  writeFileSync(
    dir.configPath,
    `transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: sam, groups: [sre] } }\nconnections:\n  prod:\n    type: kubernetes\n    kubeconfig: file:${join(dir.dir, 'kube.yaml')}\n    context: test\npolicies: [policies/*.yaml]\n`,
  );
});

after(async () => {
  await cluster?.stop();
  await other?.stop();
  dir?.cleanup();
});

const listed = () => cluster.requests.filter((r) => r.path.includes('/configmaps')).length;

/** Call, wait for its request, write `ca` to the CA file, approve; the call's answer and the request's state. */
async function approveAfterWriting(ca: string) {
  const w = await connectWarden(dir.configPath);
  try {
    const waiting = w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop' });
    const req = await until(async () => {
      const store = openSqliteStore(dir.dbPath);
      try {
        return (await store.approvals.list({ state: 'pending' }))[0];
      } finally {
        await store.close();
      }
    }, 15_000, 'the pending request');
    writeFileSync(caPath, ca);
    const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--comment', 'fine']);
    assert.equal(ok.code, 0, ok.err);
    const r = await waiting;
    const store = openSqliteStore(dir.dbPath);
    const state = (await store.approvals.get(req.id))?.state;
    await store.close();
    return { r, state };
  } finally {
    await w.close();
  }
}

test('a CA file swapped while the call waited for approval voids the approval, and nothing runs', async () => {
  const before = listed();
  const { r, state } = await approveAfterWriting(other.pki.caCert);
  assert.match(r.text, /^WARDEN_APPROVAL_DENIED/, r.text);
  assert.match(r.text, /target changed while the call waited/, r.text);
  assert.doesNotMatch(r.text, new RegExp(TOKENS.good));
  assert.equal(state, 'voided');
  assert.equal(listed(), before, 'the cluster was read');
});

test('the CA file rewritten with the same certificate runs the approved call', async () => {
  writeFileSync(caPath, cluster.pki.caCert);
  const before = listed();
  const { r, state } = await approveAfterWriting(cluster.pki.caCert);
  assert.equal(r.isError, false, r.text);
  assert.equal(state, 'used');
  assert.equal(listed(), before + 1);
});
