/**
 * A kubernetes approval binds the cluster the connection's kubeconfig reaches, not only its
 * configured entry: `kubeconfig: file:...` names no cluster, the file does. Found: a request
 * approved while `prod`'s kubeconfig pointed at the staging cluster ran the identical call on
 * another cluster after the file changed and Warden restarted (or on a replica of the shared
 * store), since the entry, and so the bound connection digest, was unchanged. Two test API
 * servers (each its own CA), real `warden serve` processes, one SQLite store, the reviewer CLI
 * as its own process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { startTestCluster, TOKENS } from '../support/kube-apiserver/warden-setup.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { approvalsCli } from './support.js';

const POLICY = `rules:
  - id: configmaps-with-approval
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_get
    on: [prod]
    kubernetes: { namespaces: [shop], kinds: [configmaps] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }
`;

let staging: KubeApiServer;
let other: KubeApiServer;
let dir: WardenDir;

before(async () => {
  staging = await startTestCluster();
  other = await startTestCluster();
  dir = writeWardenDir('', { 'p.yaml': POLICY });
  writeFileSync(
    dir.configPath,
    `transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: sam, groups: [sre] } }\nconnections:\n  prod:\n    type: kubernetes\n    kubeconfig: file:${join(dir.dir, 'kube.yaml')}\n    context: test\npolicies: [policies/*.yaml]\n`,
  );
});

after(async () => {
  await staging?.stop();
  await other?.stop();
  dir?.cleanup();
});

/** One `warden serve` whose kubeconfig file (same entry, same names, same token) points at `s`: the call, then it stops. */
async function callOn(s: KubeApiServer) {
  writeFileSync(join(dir.dir, 'kube.yaml'), s.kubeconfig({ token: TOKENS.good }), { mode: 0o600 });
  const w = await connectWarden(dir.configPath);
  try {
    return await w.call('kubectl_get', { connection: 'prod', kind: 'configmaps', namespace: 'shop' });
  } finally {
    await w.close();
  }
}

const listedConfigmaps = (s: KubeApiServer) => s.requests.filter((r) => r.path.includes('/configmaps')).length;

test('an approval given while the kubeconfig pointed at one cluster does not run the call once it points at another', async () => {
  const first = await callOn(staging);
  assert.match(first.text, /^WARDEN_APPROVAL_PENDING/, first.text);
  const store = openSqliteStore(dir.dbPath);
  const [req] = await store.approvals.list({ state: 'pending' });
  await store.close();
  assert.ok(req, 'a pending request');
  assert.ok(!req.canonicalCall.includes(TOKENS.good) && !req.canonicalCall.includes(staging.url), 'the bound call names neither the token nor the server');
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--comment', 'staging is fine']);
  assert.equal(ok.code, 0, ok.err);

  const moved = await callOn(other);
  assert.match(moved.text, /^WARDEN_APPROVAL_PENDING/, `the staging approval ran on the other cluster: ${moved.text}`);
  assert.equal(listedConfigmaps(other), 0, 'the other cluster was read on the staging approval');

  // Back on the staging cluster, the approval still runs the call it was given for.
  const same = await callOn(staging);
  assert.equal(same.isError, false, same.text);
  assert.equal(listedConfigmaps(staging), 1);
});
