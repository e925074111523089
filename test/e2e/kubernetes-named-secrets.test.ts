/**
 * A secret-named value that kubectl_get masks in a pod spec (`DB_PASSWORD`, `STRIPE_KEY`) must
 * not come back through the other doors of the same pod: `env` run by kubectl_exec, a config
 * file it cats, a log line. The content detectors see no name there and a plain password
 * passes them. Through `warden serve` and the test API server; the transcript too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube } from '../support/kube-apiserver/warden-setup.js';

const HIDDEN = { db: 'plain-db-pw-NS1q', stripe: 'sk-plain-NS2w', file: 'file-pw-NS3e', log: 'log-token-NS4r', kapp: 'kapp-copy-NS5t' };

let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

before(async () => {
  ({ server, dir } = await setupWardenKube());
  server.store.addPod({
    namespace: 'shop',
    name: 'web-9',
    labels: { app: 'web' },
    containers: [{
      name: 'app',
      env: { DB_PASSWORD: HIDDEN.db, STRIPE_KEY: HIDDEN.stripe, LOG_LEVEL: 'info' },
      logs: [{ line: `connecting as shop with password=${HIDDEN.log}`, ageSeconds: 30 }, { line: 'GET / 200', ageSeconds: 20 }],
    }],
    files: { '/app/.env': `LOG_LEVEL=debug\nDB_PASSWORD=${HIDDEN.file}\n` },
  });
  server.store.put('deployments', {
    metadata: { name: 'web-kapp', namespace: 'shop', annotations: { 'kapp.k14s.io/original': JSON.stringify({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'DB_PASSWORD', value: HIDDEN.kapp }] }] } } } }) } },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] } } },
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[]) => w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-9', container: 'app', command });

test('env and a cat file in kubectl_exec: secret-named values masked, the rest shown', async () => {
  const env = await exec(['env']);
  assert.equal(env.isError, false, env.text);
  for (const v of [HIDDEN.db, HIDDEN.stripe]) assert.ok(!env.text.includes(v), `env leaks ${v}`);
  assert.match(env.text, /LOG_LEVEL=info/);
  const cat = await exec(['cat', '/app/.env']);
  assert.equal(cat.isError, false, cat.text);
  assert.ok(!cat.text.includes(HIDDEN.file), 'cat leaks the file password');
  assert.match(cat.text, /LOG_LEVEL=debug/);
  for (const r of [env, cat]) assert.match(r.text, /\nnote: \d+ values? beside secret-looking names .* masked as \*\*\*/, 'a note says why *** is shown');
});

test('kubectl_logs: a secret-named assignment in a log line is masked', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'web-9', container: 'app' });
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes(HIDDEN.log), 'log leaks');
  assert.match(r.text, /GET \/ 200/);
  assert.match(r.text, /\nnote: 1 value beside secret-looking names/);
});

test('kubectl_get: a manifest copy in a Deployment annotation is masked like the Deployment', async () => {
  const r = await w.call('kubectl_get', { connection: 'prod', kind: 'deployments', namespace: 'shop', name: 'web-kapp' });
  assert.equal(r.isError, false, r.text);
  assert.ok(!r.text.includes(HIDDEN.kapp));
  assert.match(r.text, /kapp\.k14s\.io\/original/);
});

test('nothing of it reaches the transcript', () => {
  const t = dumpTranscript(dir.dbPath);
  for (const v of Object.values(HIDDEN)) assert.ok(!t.includes(v), `transcript holds ${v}`);
});
