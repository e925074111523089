/**
 * Secret values that masking by name beside a JSON value did not see: copies of a manifest in
 * another tool's annotation on a ConfigMap or Deployment (kapp's `kapp.k14s.io/original`), files
 * in a ConfigMap (`.properties`, `.env`, YAML, JSON), `sh -c` scripts in a container's command,
 * name/value pairs other than env (a probe's `Authorization` header), env names ending in `_KEY`,
 * and termination or event messages quoting an assignment. Each value below leaked before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_MASK, cleanAnswer, cleanObject, secretName } from '../../../tools/kubernetes/clean.js';
import { maskSecretText } from '../../../tools/shared/secret-text.js';

const none = new Set<string>();
const text = (kind: string, o: unknown) => JSON.stringify(cleanObject(kind, o, none));
const leaks = (out: string, values: string[]) => values.filter((v) => out.includes(v));

test('an annotation copying the manifest of a ConfigMap, Deployment or Secret is cleaned like the object it copies', () => {
  const cm = text('configmaps', {
    metadata: { name: 'c', annotations: { 'kapp.k14s.io/original': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { API_TOKEN: 'LEAK-cm-1', LOG_LEVEL: 'debug-kept' } }) } },
    data: { API_TOKEN: 'x' },
  });
  assert.deepEqual(leaks(cm, ['LEAK-cm-1']), []);
  assert.match(cm, /debug-kept/, 'what is not a secret stays readable');
  const deploy = text('deployments', {
    metadata: {
      name: 'd',
      annotations: {
        'kapp.k14s.io/original': JSON.stringify({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'DB_PASSWORD', value: 'LEAK-dep-1' }] }] } } } }),
        'example.com/bundle': JSON.stringify({ kind: 'List', items: [{ kind: 'Secret', type: 'Opaque', data: { p: Buffer.from('LEAK-dep-2').toString('base64') } }] }),
        'example.com/secret-copy': JSON.stringify({ stringData: { anything: 'LEAK-dep-3' } }),
        'example.com/manifest-yaml': 'apiVersion: v1\nkind: Secret\nstringData:\n  k: LEAK-dep-4\n',
        'example.com/api-token': 'LEAK-dep-5',
        'deployment.kubernetes.io/revision': '3',
      },
    },
  });
  assert.deepEqual(leaks(deploy, ['LEAK-dep-1', 'LEAK-dep-2', Buffer.from('LEAK-dep-2').toString('base64'), 'LEAK-dep-3', 'LEAK-dep-4', 'LEAK-dep-5']), []);
  assert.match(deploy, /"deployment.kubernetes.io\/revision":"3"/);
});

test('ConfigMap files: a secret-named assignment inside a value is masked, the rest of the file kept', () => {
  const cm = cleanObject('configmaps', {
    data: {
      'application.properties': 'spring.datasource.url=jdbc:postgresql://db/shop\nspring.datasource.password=LEAK-p1\n',
      '.env': 'LOG_LEVEL=info\nexport DB_PASSWORD="LEAK p2"\n',
      'config.yaml': 'db:\n  host: db\n  password: LEAK-p3\n',
      'config.json': '{"host": "db", "apiKey": "LEAK-p4"}',
      'app.ini': '[db]\nsecret = LEAK-p5\n',
      'url.txt': 'jdbc:mysql://db/shop?user=app&password=LEAK-p6',
    },
    binaryData: { 'creds.json': Buffer.from('{"password":"LEAK-p7"}').toString('base64'), 'logo.txt': Buffer.from('hello').toString('base64') },
  }, none) as { data: Record<string, string>; binaryData: Record<string, string> };
  const out = JSON.stringify(cm);
  assert.deepEqual(leaks(out, ['LEAK-p1', 'LEAK p2', 'LEAK-p3', 'LEAK-p4', 'LEAK-p5', 'LEAK-p6', Buffer.from('{"password":"LEAK-p7"}').toString('base64')]), []);
  assert.match(cm.data['application.properties']!, /spring\.datasource\.url=jdbc:postgresql:\/\/db\/shop/);
  assert.match(cm.data['config.yaml']!, /host: db/);
  assert.match(cm.data['.env']!, /LOG_LEVEL=info/);
  assert.equal(cm.binaryData['logo.txt'], Buffer.from('hello').toString('base64'));
});

test('pod specs: scripts, flags followed by their value, header pairs and _KEY names', () => {
  const out = text('pods', {
    spec: {
      containers: [{
        name: 'app',
        command: ['sh', '-c', 'export DB_PASSWORD=LEAK-s1 && exec app --token LEAK-s2 --api-key="LEAK s3"'],
        env: [{ name: 'STRIPE_KEY', value: 'LEAK-s4' }, { name: 'masterKey', value: 'LEAK-s5' }, { name: 'LOG_LEVEL', value: 'info' }],
        readinessProbe: { httpGet: { path: '/', port: 80, httpHeaders: [{ name: 'Authorization', value: 'Basic LEAK-s6' }, { name: 'Accept', value: 'text/plain' }] } },
        lifecycle: { preStop: { exec: { command: ['curl', '-H', 'Authorization: Bearer LEAK-s7', 'http://x'] } } },
      }],
    },
    status: { containerStatuses: [{ name: 'app', lastState: { terminated: { message: 'panic: bad config SECRET_KEY=LEAK-s8' } } }] },
  });
  assert.deepEqual(leaks(out, ['LEAK-s1', 'LEAK-s2', 'LEAK s3', 'LEAK-s4', 'LEAK-s5', 'LEAK-s6', 'LEAK-s7', 'LEAK-s8']), []);
  for (const kept of ['"info"', '"text/plain"', '"sh","-c"', '"path":"/"']) assert.ok(out.includes(kept), kept);
});

test('event messages quoting an assignment are masked; image references and plain messages are not', () => {
  const { items } = cleanAnswer('events', { items: [
    { metadata: { name: 'e1' }, message: 'Error: failed to start: password=LEAK-e1 rejected' },
    { metadata: { name: 'e2' }, message: 'Pulling image "registry.example/auth-proxy:1.2"' },
  ] }, none);
  const out = JSON.stringify(items);
  assert.deepEqual(leaks(out, ['LEAK-e1']), []);
  assert.match(out, /auth-proxy:1\.2/);
});

test('maskSecretText leaves text without secret-named assignments alone', () => {
  for (const t of ['port=8080\nhost: db', 'image: registry.example/token-svc:2.0', 'GET /auth/login 200', 'see https://auth.example.com:443/x', '']) assert.equal(maskSecretText(t), t, t);
  assert.equal(maskSecretText('password: hunter2'), `password: ${SECRET_MASK}`);
});

test('secretName: names ending in KEY', () => {
  for (const n of ['STRIPE_KEY', 'APP_KEY', 'masterKey', 'jwt.key', 'DB_PW']) assert.ok(secretName(n), n);
  for (const n of ['KEYCLOAK_URL', 'MONKEY', 'LOG_LEVEL']) assert.ok(!secretName(n), n);
});

test('secret-named label values are masked like secret-named annotations; other labels stay', () => {
  for (const kind of ['configmaps', 'secrets', 'pods']) {
    const out = cleanObject(kind, { metadata: { name: 'x', labels: { 'api-token': 'LEAK-l1', 'example.com/session-key': 'LEAK-l2', app: 'auth-proxy', 'auth.example.com/team': 'payments' } } }, none) as { metadata: { labels: Record<string, string> } };
    assert.deepEqual(out.metadata.labels, { 'api-token': SECRET_MASK, 'example.com/session-key': SECRET_MASK, app: 'auth-proxy', 'auth.example.com/team': 'payments' }, kind);
  }
  // The same in text (kubectl get -o yaml through kubectl_exec): flow and block.
  assert.equal(maskSecretText('  labels: {api-token: abc123, app: web}'), '  labels: {api-token: ***, app: web}');
  assert.equal(maskSecretText('  labels:\n    api-token: abc123\n    app: web'), '  labels:\n    api-token: ***\n    app: web');
});
