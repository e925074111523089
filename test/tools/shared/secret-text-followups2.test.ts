/**
 * Second follow-up of the named-secret masker: Kubernetes settings beside secret words
 * (`automountServiceAccountToken: false`, `sessionAffinity: None`, `topologyKey`, a selector's or
 * toleration's `key`, a volume item's `key`) are shown, a real secret beside the same names stays
 * masked; `pass` ending an English word (`bypass`, `compass`) is no password; value-first JSON and
 * flow pairs with members between are masked; a count is shown only when the whole value is the
 * number. Each case was masked for nothing or leaked before; each new matcher stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText, secretName } from '../../../tools/shared/secret-text.js';
import { cleanObject } from '../../../tools/kubernetes/clean.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

test('Kubernetes settings beside secret words are shown in YAML, JSON and flow text', () => {
  const shown = [
    'spec:\n  automountServiceAccountToken: false\n  containers: []',
    '{"spec":{"automountServiceAccountToken":true,"sessionAffinity":"ClientIP"}}',
    '{\n  "automountServiceAccountToken": false,\n  "sessionAffinity": "None"\n}',
    'spec: {sessionAffinity: None, type: ClusterIP}',
    'tokenRequests: []',
    '"tokenRequests": [],',
    'insecureSkipTLSVerify: true',
    'topologyKey: kubernetes.io/hostname',
    '{"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule"}',
    '{"projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}]}}',
    '"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}}',
    '"imagePullSecrets":[{"name":"regcred"}]',
    // selector requirements, tolerations and volume items (kubectl's sorted YAML, its JSON, flow)
    'selector:\n  matchExpressions:\n  - key: app\n    operator: In\n    values: [web]\n  - key: tier\n    operator: NotIn\n    values: [db]',
    'tolerations:\n- effect: NoSchedule\n  key: node-role.kubernetes.io/control-plane\n  operator: Exists\n- effect: NoExecute\n  key: node.kubernetes.io/not-ready\n  operator: Exists\n  tolerationSeconds: 300',
    '{"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}',
    '{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]}',
    'nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]}]',
    'volumes:\n- configMap:\n    items:\n    - key: app.conf\n      path: app.conf\n    name: app\n  name: cfg',
    '{"configMap":{"name":"app","items":[{"key":"app.conf","path":"app.conf"}]}}',
    '{\n  "items": [\n    {\n      "key": "tls.crt",\n      "path": "cert.pem"\n    }\n  ]\n}',
  ];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
});

test('a secret beside the same names stays masked (value shape, item structure)', () => {
  const masked: [string, string][] = [
    ['automountServiceAccountToken: hunter2', 'automountServiceAccountToken: ***'],
    ['sessionAffinity: hunter2', 'sessionAffinity: ***'],
    ['AutomountServiceAccountToken: false', 'AutomountServiceAccountToken: ***'],
    ['topologyKey: "hunter2 with blanks"', 'topologyKey: ***'],
    // `key` beside something other than an operator, or a path outside an items list
    ['key: hunter2', 'key: ***'],
    ['- key: hunter2\n  value: x', '- key: ***\n  value: x'],
    ['tls:\n  key: hunter2\n  path: /etc/tls', 'tls:\n  key: ***\n  path: /etc/tls'],
    ['{"key":"hunter2","path":"/x"}', '{"key":***,"path":"/x"}'],
    ['{"key":"hunter2","cert":"x","operator":"In"}', '{"key":***,"cert":"x","operator":"In"}'],
    // the next line's operator belongs to another mapping (another column)
    ['- key: hunter2\nop:\n  operator: In', '- key: ***\nop:\n  operator: In'],
    ['{"key":"hunter2 x","operator":"In"}', '{"key":***,"operator":"In"}'],
    // a known struct's members are still read; another secret-named object is masked whole
    ['"serviceAccountToken":{"token":"hunter2","path":"token"}', '"serviceAccountToken":***'],
    ['"serviceAccountToken":{"path":"token","value":"hunter2"}', '"serviceAccountToken":***'],
    ['imagePullSecrets: [{name: regcred, password: hunter2}]', 'imagePullSecrets: ***'],
    ['"credentials":{"user":"a","value":"hunter2"}', '"credentials":***'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
  assert.equal(maskSecretText('"credentials": {},'), '"credentials": {},');
});

test('pass ending an English word is no password; a glued prefix still is', () => {
  for (const name of ['bypass', 'BYPASS_CACHE', 'compass', 'encompass', 'surpass', 'trespass', 'overpass', 'underpass', 'passport']) {
    assert.equal(secretName(name), false, name);
  }
  for (const name of ['DB_PASS', 'dbPass', 'dbpass', 'PGPASS', 'pass123', 'rootpass', 'vaultpass', 'bypass_password', 'compassPassword']) {
    assert.equal(secretName(name), true, name);
  }
  assert.equal(maskSecretText('bypass=on compass: north'), 'bypass=on compass: north');
  assert.equal(maskSecretText('PGPASS=hunter2'), 'PGPASS=***');
});

test('value-first JSON and flow pairs with other members between are masked', () => {
  const cases: [string, string][] = [
    ['{"value":"hunter2","foo":1,"name":"DB_PASSWORD"}', '{"value":***,"foo":1,"name":"DB_PASSWORD"}'],
    ['{"value": "hunter2", "foo": "a,b", "bar": true, "name": "DB_PASSWORD"}', '{"value": ***, "foo": "a,b", "bar": true, "name": "DB_PASSWORD"}'],
    ['{value: hunter2, foo: 1, bar: x, name: DB_PASSWORD}', '{value: ***, foo: 1, bar: x, name: DB_PASSWORD}'],
    ['[{value: hunter2, foo: 1, name: "API_TOKEN"}]', '[{value: ***, foo: 1, name: "API_TOKEN"}]'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  for (const kept of [
    '{"value":"info","foo":1,"name":"LOG"}',
    '{"value":"info","foo":1},{"name":"DB_PASSWORD"}',
    '{"value":"info","x":{"a":1},"name":"DB_PASSWORD"}',
    '{"value":"info","value":"x","name":"LOG"}',
    '{value: info, foo: 1, name: LOG}',
  ]) assert.equal(maskSecretText(kept), kept, kept);
  // The next pair's `value` ends the look: only its own value is the name's.
  assert.equal(maskSecretText('{"value":"info","foo":1},{"value":"hunter2","name":"DB_PASSWORD"}'), '{"value":"info","foo":1},{"value":***,"name":"DB_PASSWORD"}');
});

test('a count is shown only when the whole value is the number', () => {
  const masked: [string, string][] = [
    ['token_count: 12 hunter2', 'token_count: ***'],
    ['token_count=12 hunter2', 'token_count=***'],
    ['max_tokens: 4096 # hunter2', 'max_tokens: ***'],
    ['"token_count": "12 hunter2"', '"token_count": ***'],
    ['usage: prompt_tokens: 12 hunter2', 'usage: prompt_tokens: ***'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
  for (const kept of ['token_count: 12', 'token_count: "12",', 'prompt_tokens: 12, total: 30', 'max_tokens=4096 token_count=5', '{"prompt_tokens":12,"max_tokens":4096}']) {
    assert.equal(maskSecretText(kept), kept, kept);
  }
  assert.equal(maskSecretText('max_tokens=4096 api_token=LEAK'), 'max_tokens=4096 api_token=***');
  const cm = cleanObject('configmaps', { kind: 'ConfigMap', data: { token_count: '12 hunter2', max_tokens: '4096' } }, new Set()) as { data: Record<string, string> };
  assert.deepEqual(cm.data, { token_count: '***', max_tokens: '4096' });
});

test('the pod YAML an operator reads keeps its settings; its env secret does not', () => {
  const pod = [
    'spec:',
    '  automountServiceAccountToken: false',
    '  affinity:',
    '    podAntiAffinity:',
    '      requiredDuringSchedulingIgnoredDuringExecution:',
    '      - labelSelector:',
    '          matchExpressions:',
    '          - key: app',
    '            operator: In',
    '            values: [web]',
    '        topologyKey: kubernetes.io/hostname',
    '  containers:',
    '  - env:',
    '    - name: DB_PASSWORD',
    '      value: hunter2',
    '    name: web',
  ].join('\n');
  const out = maskSecretText(pod);
  assert.equal(out, pod.replace('value: hunter2', 'value: ***'));
});

test('the second follow-up matchers cost linear time on hostile text', () => {
  const units = [
    // value-first pairs with members between (JSON, flow), never closed by a name
    '{"value":"x","a":1,', '"value":"x","a":"b",', '"a":1,', '{value: x, a: 1, ', 'value: x, a: b, ', ', a: 1',
    // key names by structure: operator/path after, items before, long runs of keys
    '- key: app\n  operator: In\n', '{"key":"a",', '{"key":"a","operator":"In"},', 'items:\n- key: a\n  path: b\n', 'key: a\n', ' key: a,',
    // whole-value counts and settings: a number then a long run, a setting name then a long value
    'token_count: 12 ', 'token_count=12 a', 'x=1 token_count: 1', 'automountServiceAccountToken: ', 'sessionAffinity: None ',
    // known structs read member by member: nested, unclosed, empty
    '"serviceAccountToken":{"path":"a",', 'serviceAccountToken: [', 'tokenRequests: [], ', '"imagePullSecrets":[{"name":"a"},',
  ];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
  // One long line after a count (the whole-line form takes it all as the value).
  assertLinear('a long line after a count', (n) => `token_count: 12 ${'a'.repeat(n)}`, maskSecretText);
});
