/**
 * Attacks on the kubernetes tools through `warden serve`: secrets that reach the agent through
 * objects other than Secrets (literal env values in pod and deployment specs), whatever the
 * content detectors recognise. What `env` in the pod masks, `kubectl_get` must mask too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { PLANTED } from '../support/kube-apiserver/fixtures.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const PLAIN_PW = 'plain-pw-Zq81xK2m';
const KAPP_PW = 'kapp-pw-Lm47Qe9s';

before(async () => {
  ({ server, dir } = await setupWardenKube());
  server.store.addPod({
    namespace: 'shop',
    name: 'web-9',
    labels: { app: 'web' },
    containers: [{ name: 'app', env: { DB_PASSWORD: PLAIN_PW, API_TOKEN: 'tok-abcdef0123456789', LOG_LEVEL: 'debug' } }],
    files: {},
  });
  server.store.put('deployments', {
    metadata: { name: 'api', namespace: 'shop' },
    spec: { template: { spec: { containers: [{ name: 'api', env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: PLANTED.awsSecret }, { name: 'MODE', value: 'prod' }] }] } } },
  });
  server.store.put('secrets', {
    metadata: { name: 'kapp-creds', namespace: 'shop', annotations: { 'kapp.k14s.io/original': JSON.stringify({ kind: 'Secret', stringData: { password: KAPP_PW } }), 'kubernetes.io/service-account.name': 'builder' } },
    type: 'Opaque',
    data: { password: Buffer.from(KAPP_PW).toString('base64') },
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const SECRETS = [PLANTED.awsSecret, PLAIN_PW, 'tok-abcdef0123456789', KAPP_PW];

describe('secrets in literal env values', () => {
  test('get pod: env values with secret names are masked, other values pass', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', namespace: 'shop', name: 'web-1' });
    assert.equal(r.isError, false, r.text);
    for (const s of SECRETS) assert.ok(!JSON.stringify(r.structured).includes(s) && !r.text.includes(s), `leaks ${s.slice(0, 6)}`);
    assert.match(r.text, /LOG_LEVEL/);
    assert.match(JSON.stringify(r.structured), /"info"/);
  });

  test('list pods and a named pod with plain secret-named env', async () => {
    for (const args of [{ namespace: 'shop' }, { namespace: 'shop', name: 'web-9' }]) {
      const r = await w.call('kubectl_get', { connection: 'prod', kind: 'pods', ...args });
      assert.equal(r.isError, false, r.text);
      for (const s of SECRETS) assert.ok(!JSON.stringify(r.structured).includes(s) && !r.text.includes(s), `leaks ${s.slice(0, 6)}`);
      assert.match(JSON.stringify(r.structured), /"debug"/);
    }
  });

  test('deployment pod templates too', async () => {
    const r = await w.call('kubectl_get', { connection: 'prod', kind: 'deployments', namespace: 'shop', name: 'api' });
    assert.equal(r.isError, false, r.text);
    for (const s of SECRETS) assert.ok(!JSON.stringify(r.structured).includes(s), `leaks ${s.slice(0, 6)}`);
    assert.match(JSON.stringify(r.structured), /"prod"/);
  });

  test('a Secret whose annotation holds its manifest (kapp): the annotation value is masked', async () => {
    for (const args of [{ name: 'kapp-creds' }, {}]) {
      const r = await w.call('kubectl_get', { connection: 'prod', kind: 'secrets', namespace: 'shop', ...args });
      assert.equal(r.isError, false, r.text);
      for (const s of SECRETS) assert.ok(!JSON.stringify(r.structured).includes(s) && !r.text.includes(s), `leaks ${s.slice(0, 6)}`);
      assert.match(JSON.stringify(r.structured), /kapp\.k14s\.io\/original/);
      assert.match(JSON.stringify(r.structured), /"builder"/);
    }
  });

  test('the transcript holds none of them', () => {
    const all = dumpTranscript(dir.dbPath);
    for (const s of SECRETS) assert.ok(!all.includes(s), `transcript leaks ${s.slice(0, 6)}`);
  });
});
