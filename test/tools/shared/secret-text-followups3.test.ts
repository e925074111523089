/**
 * Third follow-up of the named-secret masker: a pod volume's `secret` source in compact JSON and
 * flow YAML reads like its YAML form (its Secret's name, item keys and paths, mode), tolerations
 * and taints without `operator` show their key, ingress-nginx's auth annotations that name a
 * Secret or describe the auth are shown by name and value shape (kubectl_get and text alike),
 * while a credential inline in one (`user:pw@` in `auth-url`, a `...-token` annotation) stays
 * masked; a prefixed annotation key in text (`example.com/api-token: ...`) is read by its name.
 * Each case was masked for nothing or leaked before; each new matcher stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { cleanObject } from '../../../tools/kubernetes/clean.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

test('a pod volume secret source reads in compact JSON, flow and pretty JSON; Secret data stays masked', () => {
  const shown = [
    '"volumes":[{"name":"creds","secret":{"secretName":"db-creds","defaultMode":420,"items":[{"key":"password","path":"pw"}]}}]',
    '{"spec":{"volumes":[{"name":"creds","secret":{"defaultMode":420,"optional":false,"secretName":"db-creds"}}]}}',
    'volumes: [{name: creds, secret: {secretName: db-creds, defaultMode: 420, items: [{key: password, path: pw, mode: 256}]}}]',
    // a projected volume's Secret source (`name`, not `secretName`)
    '{"projected":{"sources":[{"secret":{"name":"db-creds","items":[{"key":"tls.key","path":"key.pem"}]}}]}}',
    // pretty-printed: the opening bracket ends its line, the members are read one by one
    '{\n  "secret": {\n    "secretName": "db-creds",\n    "defaultMode": 420\n  }\n}',
  ];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
  const masked: [string, string][] = [
    // another member than the schema's masks the source whole
    ['{"secret":{"secretName":"db-creds","value":"hunter2"}}', '{"secret":***}'],
    ['secret: {secretName: db, data: {password: aHVudGVyMg==}}', 'secret: ***'],
    // a `key` outside an items list is a secret word still
    ['{"secret":{"key":"hunter2","path":"pw"}}', '{"secret":{"key":***,"path":"pw"}}'],
    // a Secret's own data in every form
    ['{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}', '{"kind":"Secret","data":***}'],
    ['kind: Secret\ndata:\n  password: aHVudGVyMg==', 'kind: Secret\ndata:\n  password: ***'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
});

test('tolerations and taints without operator show their key; a key outside such a list stays masked', () => {
  const shown = [
    'tolerations: [{key: "secret-node", effect: NoSchedule}]',
    'tolerations: [{key: secret-node, value: gpu, effect: NoSchedule}]',
    '{"tolerations":[{"effect":"NoSchedule","key":"secret-node"}]}',
    '{"tolerations":[{"key":"secret-node","value":"gpu","effect":"NoSchedule"}]}',
    '  tolerations:\n  - effect: NoSchedule\n    key: secret-node\n    value: gpu\n  - key: dedicated\n    effect: NoExecute',
    'tolerations:\n- key: secret-node\n  effect: NoSchedule',
    '{\n  "tolerations": [\n    {\n      "effect": "NoSchedule",\n      "key": "secret-node"\n    }\n  ]\n}',
    'spec:\n  taints:\n  - effect: NoSchedule\n    key: node-role.kubernetes.io/control-plane',
  ];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
  const masked: [string, string][] = [
    ['- key: hunter2\n  value: x', '- key: ***\n  value: x'],
    // after the list closed, in another list, nested deeper, or with a blank value shape
    ['{"tolerations":[],"creds":[{"key":"hunter2","value":"x"}]}', '{"tolerations":[],"creds":[{"key":***,"value":"x"}]}'],
    ['tolerations: []\ncreds:\n- key: hunter2\n  value: x', 'tolerations: []\ncreds:\n- key: ***\n  value: x'],
    ['tolerations:\n- effect: NoSchedule\ncreds:\n- key: hunter2', 'tolerations:\n- effect: NoSchedule\ncreds:\n- key: ***'],
    ['{"tolerations":[{"x":{"key":"hunter2"}}]}', '{"tolerations":[{"x":{"key":***}}]}'],
    ['tolerations:\n- x:\n    key: hunter2', 'tolerations:\n- x:\n    key: ***'],
    ['tolerations: [{key: "hunter2 x", effect: NoSchedule}]', 'tolerations: [{key: ***, effect: NoSchedule}]'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
});

const INGRESS_AUTH: Record<string, string> = {
  'nginx.ingress.kubernetes.io/auth-type': 'basic',
  'nginx.ingress.kubernetes.io/auth-secret': 'basic-auth',
  'nginx.ingress.kubernetes.io/auth-secret-type': 'auth-map',
  'nginx.ingress.kubernetes.io/auth-realm': 'Authentication Required - foo',
  'nginx.ingress.kubernetes.io/auth-url': 'https://auth.example.com/oauth2/auth',
  'nginx.ingress.kubernetes.io/auth-signin': 'https://auth.example.com/oauth2/start?rd=$escaped_request_uri',
  'nginx.ingress.kubernetes.io/auth-method': 'GET',
  'nginx.ingress.kubernetes.io/auth-response-headers': 'X-Auth-Request-User, X-Auth-Request-Email',
  'nginx.ingress.kubernetes.io/auth-tls-secret': 'default/ca-secret',
  'nginx.ingress.kubernetes.io/auth-tls-verify-client': 'on',
  'nginx.ingress.kubernetes.io/auth-tls-verify-depth': '1',
  'nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream': 'true',
  'nginx.ingress.kubernetes.io/proxy-ssl-secret': 'default/upstream-ca',
  'nginx.ingress.kubernetes.io/enable-global-auth': 'false',
};
const INLINE_CREDENTIALS: Record<string, string> = {
  'nginx.ingress.kubernetes.io/auth-url': 'https://alice:hunter2@auth.example.com/check',
  'nginx.ingress.kubernetes.io/auth-signin': 'https://alice:hunter2@auth.example.com/start',
  'nginx.ingress.kubernetes.io/auth-type': 'hunter2',
  'nginx.ingress.kubernetes.io/auth-secret': 'hunter2 with blanks',
  'nginx.ingress.kubernetes.io/auth-snippet': 'proxy_set_header Authorization "Basic YWxpY2U6aHVudGVyMg==";',
  'nginx.ingress.kubernetes.io/auth-cache-key': 'hunter2',
  'example.com/api-token': 'hunter2',
  'example.com/db-password': 'hunter2',
  // the right name under another prefix is not ingress-nginx's annotation
  'example.com/auth-secret': 'hunter2',
};

test('kubectl_get shows ingress auth annotations by name and value shape; inline credentials stay masked', () => {
  const shown = cleanObject('ingresses', { kind: 'Ingress', metadata: { name: 'web', annotations: INGRESS_AUTH }, spec: {} }, new Set()) as { metadata: { annotations: Record<string, string> } };
  assert.deepEqual(shown.metadata.annotations, INGRESS_AUTH);
  const leaky = cleanObject('ingresses', { kind: 'Ingress', metadata: { name: 'web', annotations: INLINE_CREDENTIALS }, spec: {} }, new Set()) as { metadata: { annotations: Record<string, string> } };
  for (const [k, v] of Object.entries(leaky.metadata.annotations)) assert.equal(v, '***', k);
  // A secret-named query parameter in a shown URL is masked as an assignment.
  const query = cleanObject('ingresses', { metadata: { annotations: { 'nginx.ingress.kubernetes.io/auth-url': 'https://auth.example.com/check?access_token=hunter2' } } }, new Set()) as { metadata: { annotations: Record<string, string> } };
  assert.equal(query.metadata.annotations['nginx.ingress.kubernetes.io/auth-url'], 'https://auth.example.com/check?access_token=***');
});

test('annotations in text: the ingress auth ones read, a prefixed secret-named one is masked', () => {
  const yaml = (a: Record<string, string>) => `metadata:\n  annotations:\n${Object.entries(a).map(([k, v]) => `    ${k}: ${v}`).join('\n')}\n  name: web`;
  assert.equal(maskSecretText(yaml(INGRESS_AUTH)), yaml(INGRESS_AUTH));
  const json = JSON.stringify({ metadata: { annotations: INGRESS_AUTH } });
  assert.equal(maskSecretText(json), json);
  const masked = Object.fromEntries(Object.keys(INLINE_CREDENTIALS).map((k) => [k, '***']));
  assert.equal(maskSecretText(yaml(INLINE_CREDENTIALS)), yaml(masked));
  assert.equal(maskSecretText(JSON.stringify({ annotations: INLINE_CREDENTIALS })), JSON.stringify({ annotations: masked }).replace(/"\*\*\*"/g, '***'));
  // A prefix is a domain: `auth.example.com/team` names no secret; flow YAML reads the same.
  assert.equal(maskSecretText('auth.example.com/team: platform'), 'auth.example.com/team: platform');
  assert.equal(maskSecretText('{example.com/api-token: hunter2, app: web}'), '{example.com/api-token: ***, app: web}');
});

test('the third follow-up matchers cost linear time on hostile text', () => {
  const units = [
    '"secret":{"secretName":"a",', 'secret: {items: [{key: a, path: b}, ', '"secret": {\n',
    'tolerations: [{key: a, effect: b}, ', '{"tolerations":[{"key":"a"}],', 'tolerations:\n- key: a\n', '  - key: a\n    value: b\n',
    'a.b/auth-url: x\n', 'a.b/c/d/', 'nginx.ingress.kubernetes.io/auth-type: basic ', '"a.b/token":"x",', 'a.b.c.d',
  ];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
});
