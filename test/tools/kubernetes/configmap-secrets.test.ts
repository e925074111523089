/**
 * ConfigMaps that hold Secrets in another form: a Helm release record kept with
 * HELM_DRIVER=configmap (the gzipped rendered chart, its Secrets included), and a Secret
 * manifest kept as a YAML or JSON value (a GitOps bundle) whose keys are not secret-named.
 * Each value below reached the agent through kubectl_get before; ordinary config stays shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { judgedGet } from '../../support/kube-apiserver/judged-policy.js';
import { testCluster } from '../../support/kube-apiserver/test-connector.js';

const k = testCluster('cm-secrets');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const READ = `  - id: read
    effect: allow
    tool: kubectl_get
    kubernetes: { namespaces: [shop], kinds: [configmaps] }
`;

async function get(name: string): Promise<string> {
  const out = await judgedGet(k, READ, { connection: 'prod', kind: 'configmaps', namespace: 'shop', name });
  return JSON.stringify(out.kind === 'json' ? out.data : out);
}

test('a Helm release ConfigMap (HELM_DRIVER=configmap) is masked whole, as a helm.sh/release.v1 Secret is', async () => {
  const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: pay-db\ndata:\n  dsn: ${b64('postgres://pay:LEAK-helm-pw@db/pay')}\n`;
  const release = gzipSync(JSON.stringify({ name: 'pay', manifest })).toString('base64');
  k.server.store.put('configmaps', { metadata: { name: 'sh.helm.release.v1.pay.v1', namespace: 'shop', labels: { owner: 'helm', name: 'pay', status: 'deployed', version: '1' } }, data: { release } });
  k.server.store.put('configmaps', { metadata: { name: 'pay.v1', namespace: 'shop', labels: { OWNER: 'TILLER', NAME: 'pay' } }, data: { release } });
  for (const name of ['sh.helm.release.v1.pay.v1', 'pay.v1']) {
    const out = await get(name);
    assert.ok(!out.includes(release.slice(0, 40)), `${name}: ${out.slice(0, 300)}`);
    assert.match(out, /"owner":"helm"|"OWNER":"TILLER"/, 'the labels stay readable');
  }
});

test('a Secret manifest in a ConfigMap value (YAML, JSON, base64 gzip, binaryData) is masked; other config is not', async () => {
  const yaml = `---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  conn: ${b64('LEAK-yaml')}\n`;
  const stringData = `apiVersion: v1\nkind: "Secret"\nstringData:\n  conn: LEAK-string\n`;
  const json = JSON.stringify({ kind: 'List', items: [{ kind: 'Secret', data: { conn: b64('LEAK-json') } }] });
  const gz = gzipSync('conn=LEAK-gzip').toString('base64');
  k.server.store.put('configmaps', {
    metadata: { name: 'bundle', namespace: 'shop' },
    data: { 'bundle.yaml': yaml, 'plain.yaml': stringData, 'bundle.json': json, 'blob': gz, 'app.yaml': 'kind: Deployment\nlogLevel: debug-kept\n', 'cfg.json': '{"logLevel":"info-kept"}' },
    binaryData: { 'bin.yaml': b64(yaml) },
  });
  const out = await get('bundle');
  for (const leak of [b64('LEAK-yaml'), 'LEAK-string', b64('LEAK-json'), gz, b64(yaml)]) assert.ok(!out.includes(leak), `${leak} leaked: ${out}`);
  assert.match(out, /debug-kept/);
  assert.match(out, /info-kept/);
});
