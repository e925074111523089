/**
 * kubectl_exec and kubectl_logs, red team: a container's environment variable taken from a
 * Secret (`env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`) holds the Secret's value under
 * any name the pod spec chooses (`UPSTREAM`, `API_primary`), so `env`, `printenv UPSTREAM` or a
 * log line printing it showed the value that kubectl_get masks: masking reads names, and these
 * names (or a bare value) hold none. Warden now reads those Secrets before it acts and masks
 * their values wherever they appear in the output; a Secret it cannot read refuses the call
 * (secret-env.ts). Through `warden serve`, the real MCP client and the test API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, type WardenDir, type WardenSession } from '../support/warden-process.js';
import type { KubeApiServer } from '../support/kube-apiserver/index.js';
import { PLANTED } from '../support/kube-apiserver/fixtures.js';
import { dumpTranscript } from '../support/kube-apiserver/transcript-dump.js';
import { setupWardenKube, webPodShellRule } from '../support/kube-apiserver/warden-setup.js';

const API_KEY = 'LEAK-KENV-api-1';
/** Bytes of the value that fit before the cap, one filler variable each. */
const CUTS = [4, 8, 14];
/** web-config's API_TOKEN (kubectl_get masks it by its name), here not a JWT the content detectors would know. */
const CM_TOKEN = 'LEAK-KENV-cm-token';
/** The encoded spellings `base64` and `xxd -p` print (the first 16 characters: any part of one is a leak). */
const ENCODED = [`${PLANTED.secretPassword}\n`, API_KEY].flatMap((v) => [Buffer.from(v).toString('base64').slice(0, 16), Buffer.from(v).toString('hex').slice(0, 16)]);
const LEAKS = [PLANTED.secretPassword, API_KEY, CM_TOKEN, ...ENCODED];
let server: KubeApiServer;
let dir: WardenDir;
let w: WardenSession;

const POLICY = `
rules:
${webPodShellRule('sre-env', ['env', 'printenv', 'echo', 'cat', 'head'], ['/app'])}  - id: sre-logs
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_logs
    kubernetes: { namespaces: [shop], pod_labels: { app: web }, containers: [app] }
  - id: sre-any-command
    effect: allow
    who: { groups: [sre] }
    tool: kubectl_exec
    kubernetes: { namespaces: [shop], pod_labels: { access: full }, containers: [app] }
`;

before(async () => {
  ({ server, dir } = await setupWardenKube(POLICY));
  server.store.put('configmaps', { metadata: { name: 'web-config', namespace: 'shop' }, data: { LOG_LEVEL: 'info', API_TOKEN: CM_TOKEN } });
  server.store.put('secrets', { metadata: { name: 'api-keys', namespace: 'shop' }, type: 'Opaque', data: { primary: Buffer.from(API_KEY).toString('base64') } });
  // What the kubelet put in the container's environment: the Secrets' values under the spec's names.
  const pod = server.store.addPod({
    namespace: 'shop', name: 'env-1', labels: { app: 'web', access: 'full' },
    containers: [{
      name: 'app',
      env: { UPSTREAM: PLANTED.secretPassword, API_primary: API_KEY, API_TOKEN: CM_TOKEN, LOG_LEVEL: 'info', ...Object.fromEntries(CUTS.map((n) => [`FILL_${n}`, 'x'.repeat(65536 - n - 1)])) },
      logs: [{ line: 'booting', ageSeconds: 30 }, { line: `connecting upstream with ${PLANTED.secretPassword}`, ageSeconds: 20 }, { line: `api ready (${API_KEY})`, ageSeconds: 10 }, { line: `auth header ${Buffer.from(`user:${API_KEY}`).toString('base64')} sent`, ageSeconds: 5 }],
    }],
  }) as unknown as { spec: { containers: Record<string, unknown>[] } };
  Object.assign(pod.spec.containers[0]!, {
    env: [{ name: 'UPSTREAM', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }, { name: 'LOG_LEVEL', value: 'info' }],
    envFrom: [{ prefix: 'API_', secretRef: { name: 'api-keys' } }, { configMapRef: { name: 'web-config' } }],
  });
  w = await connectWarden(dir.configPath);
});

after(async () => {
  await w?.close();
  await server?.stop();
  dir?.cleanup();
});

const exec = (command: string[], pod = 'env-1', connection = 'prod') => w.call('kubectl_exec', { connection, namespace: 'shop', pod, container: 'app', command });
const leaked = (text: string) => LEAKS.filter((l) => text.includes(l));

test('env, printenv and echo of a variable taken from a Secret (or a secret-named ConfigMap key) show *** in place of its value; other variables stay', async () => {
  for (const command of [['env'], ['printenv', 'UPSTREAM'], ['printenv', 'API_primary'], ['printenv', 'API_TOKEN'], ['sh', '-c', 'echo "up=$UPSTREAM"; echo "$API_primary"']]) {
    const r = await exec(command);
    assert.equal(r.isError, false, `${command.join(' ')}: ${r.text}`);
    assert.deepEqual(leaked(r.text), [], `${command.join(' ')}: ${r.text}`);
    assert.match(r.text, /\*\*\*/, r.text);
  }
  const env = await exec(['env']);
  assert.match(env.text, /LOG_LEVEL=info/);
  assert.match(env.text, /UPSTREAM=\*\*\*/);
});

test("printenv of a secret-named variable whose value the pod spec holds (masked by kubectl_get) shows *** too", async () => {
  for (const command of [['printenv', 'AWS_SECRET_ACCESS_KEY'], ['printenv', 'DATABASE_URL', 'LOG_LEVEL']]) {
    const r = await exec(command, 'web-1');
    assert.equal(r.isError, false, `${command.join(' ')}: ${r.text}`);
    assert.ok(!r.text.includes(PLANTED.awsSecret) && !r.text.includes(PLANTED.dbPassword), `${command.join(' ')}: ${r.text}`);
  }
  const plain = await exec(['printenv', 'LOG_LEVEL'], 'web-1');
  assert.match(plain.text, /info/);
});

test('base64 (either alphabet, wrapped or not) and hex of such a value are masked too; other encoded text stays', async () => {
  const script = 'echo "$UPSTREAM" | base64; printf %s "x$API_primary" | base64 -w0 | tr "+/" "-_"; echo; printenv UPSTREAM | xxd -p; echo "$LOG_LEVEL" | base64';
  const r = await exec(['sh', '-c', script]);
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(leaked(r.text), [], r.text);
  assert.ok(!r.text.includes(Buffer.from(`${PLANTED.secretPassword}\n`).toString('hex').slice(0, 12)), r.text);
  assert.ok(r.text.includes(Buffer.from('info\n').toString('base64')), r.text);
  assert.match(r.text, /\*\*\*/);
  const logs = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'env-1', container: 'app' });
  assert.equal(logs.isError, false, logs.text);
  assert.ok(!logs.text.includes(Buffer.from(`user:${API_KEY}`).toString('base64').slice(8, 20)), logs.text);
  assert.match(logs.text, /auth header \S*\*\*\*\S* sent/);
});

test('output cut at the byte cap inside such a value shows none of it', async () => {
  // 65536 bytes at most: printenv prints the filler and its newline, then n bytes of the value fit.
  for (const n of CUTS) {
    const r = await exec(['printenv', `FILL_${n}`, 'UPSTREAM']);
    assert.equal(r.isError, false, r.text.slice(-300));
    assert.match(r.text, /truncated/i, r.text.slice(-300));
    const out = r.text.replace(/x{20,}/g, '');
    assert.ok(!out.includes(PLANTED.secretPassword.slice(0, 4)), `n=${n}: ${out.slice(-200)}`);
  }
});

test('a log line printing such a value is masked', async () => {
  const r = await w.call('kubectl_logs', { connection: 'prod', namespace: 'shop', pod: 'env-1', container: 'app' });
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(leaked(r.text), [], r.text);
  assert.match(r.text, /booting/);
  assert.match(r.text, /connecting upstream with \*\*\*/);
});

test('a Secret Warden cannot read refuses the call before it runs; a pod without such variables still runs', async () => {
  const r = await exec(['env'], 'env-1', 'limited');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /Secret/);
  assert.deepEqual(leaked(r.text), [], r.text);
  const logs = await w.call('kubectl_logs', { connection: 'limited', namespace: 'shop', pod: 'env-1', container: 'app' });
  assert.equal(logs.isError, true, logs.text);
  assert.deepEqual(leaked(logs.text), [], logs.text);
  const ok = await exec(['env'], 'web-1', 'limited');
  assert.equal(ok.isError, false, ok.text);
  assert.match(ok.text, /LOG_LEVEL=info/);
});

test('nothing of it reaches the transcript', () => {
  assert.deepEqual(leaked(dumpTranscript(dir.dbPath)), []);
});
