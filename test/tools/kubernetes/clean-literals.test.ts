/**
 * Secret values outside Secrets: a literal env value, a `--password` argument, a configmap
 * key named like a credential, a Secret's annotation holding its own manifest. The content
 * detectors see each JSON string alone (no name beside it), so these are masked by name here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_MASK, cleanAnswer, cleanObject, secretName } from '../../../tools/kubernetes/clean.js';

const none = new Set<string>();

test('pod env: secret-named literal values masked, valueFrom references and other values kept', () => {
  const pod = {
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'app', env: [{ name: 'DB_PASSWORD', value: 'pw1' }, { name: 'GITHUB_TOKEN', value: 'ghp_x' }, { name: 'LOG_LEVEL', value: 'info' }, { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }],
      initContainers: [{ name: 'init', env: [{ name: 'aws_secret_access_key', value: 'k2' }] }],
      ephemeralContainers: [{ name: 'dbg', args: ['--password', 'pw2', '--token=t3', '--verbose', 'x', 'SECRET=s4', '--auth-mode:basic'] }],
    },
  };
  const out = JSON.stringify(cleanObject('pods', pod, none));
  for (const s of ['pw1', 'ghp_x', 'k2', 'pw2', 't3', 's4']) assert.ok(!out.includes(`"${s}"`) && !out.includes(`=${s}`), `leaks ${s}`);
  assert.match(out, /"info"/);
  assert.match(out, /secretKeyRef/);
  assert.match(out, /"--verbose","x"/);
  assert.match(out, /"--token=\*\*\*"/);
});

test('deployment templates in a list are masked too', () => {
  const list = { items: [{ metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'PGPASSWORD', value: 'pg-pw' }] }] } } } }] };
  const { items } = cleanAnswer('deployments', list, none);
  assert.ok(!JSON.stringify(items).includes('pg-pw'));
  assert.ok(JSON.stringify(items).includes(SECRET_MASK));
});

test('configmaps: credential-named keys masked, others kept', () => {
  const cm = cleanObject('configmaps', { metadata: { name: 'c' }, data: { DB_PASSWORD: 'x1', LOG_LEVEL: 'info' }, binaryData: { 'tls-private.key': 'eDI=' } }, none) as { data: Record<string, string>; binaryData: Record<string, string> };
  assert.deepEqual(cm.data, { DB_PASSWORD: SECRET_MASK, LOG_LEVEL: 'info' });
  assert.deepEqual(cm.binaryData, { 'tls-private.key': SECRET_MASK });
});

test('secrets: annotation values masked except the service-account link', () => {
  const s = cleanObject('secrets', { metadata: { name: 's', annotations: { 'kapp.k14s.io/original': '{"data":{"p":"aGk="}}', 'kubernetes.io/service-account.name': 'sa' } }, data: { p: 'aGk=' } }, none) as { metadata: { annotations: Record<string, string> } };
  assert.deepEqual(s.metadata.annotations, { 'kapp.k14s.io/original': SECRET_MASK, 'kubernetes.io/service-account.name': 'sa' });
});

test('secretName', () => {
  for (const n of ['PASSWORD', 'db_pass', 'MYSQL_ROOT_PASSWORD', 'client-secret', 'SESSION_KEY', 'PRIVATE_KEY', 'apiKey', 'DB_PWD', 'SENTRY_DSN', 'credentials.json']) assert.ok(secretName(n), n);
  for (const n of ['LOG_LEVEL', 'PORT', 'HOSTNAME', 'MODE']) assert.ok(!secretName(n), n);
});
