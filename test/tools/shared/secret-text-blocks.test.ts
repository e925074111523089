/**
 * Members of a secret-named block: block YAML or pretty-printed JSON under a key that is a secret
 * name (`credentials:`, `"auths": {`, `secrets:` with a list) showed the values of members with
 * harmless names (`user: admin`, `value: hunter2`); only compact JSON masked such a block whole.
 * Each masked case below leaked before. The guards keep Kubernetes structures that name Secrets
 * (a volume's `secret` source, `secretKeyRef`, `imagePullSecrets`, a ServiceAccount's `secrets`)
 * readable, and the scan stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const check = (cases: [string, string][]) => {
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, JSON.stringify(text));
};

test('block YAML under a secret name: every scalar member masked, at any depth, the block bounded by indentation', () => {
  check([
    ['credentials:\n  user: admin\n  value: hunter2\nlevel: debug', 'credentials:\n  user: ***\n  value: ***\nlevel: debug'],
    ['auth:\n  ldap:\n    bind:\n      dn: cn=admin\n      value: hunter2\n  enabled: true\nport: 80', 'auth:\n  ldap:\n    bind:\n      dn: ***\n      value: ***\n  enabled: ***\nport: 80'],
    // a list under the key, at its column or indented, of mappings or of scalars
    ['secrets:\n- value: hunter2\n- value: other\nname: app', 'secrets:\n- value: ***\n- value: ***\nname: app'],
    ['secrets:\n  - value: hunter2', 'secrets:\n  - value: ***'],
    ['credentials:\n  - hunter2\n  - other\nnext: 1', 'credentials:\n  - ***\n  - ***\nnext: 1'],
    // the block as a list item's member ends at the item's next member
    ['- credentials:\n    user: admin\n  name: web', '- credentials:\n    user: ***\n  name: web'],
    // a plain scalar continued on the lines below the key
    ['password:\n  hunter2\nnext: 1', 'password:\n  ***\nnext: 1'],
    // CRLF lines (a Windows file printed by cat)
    ['credentials:\r\n  user: admin\r\n  value: x\r\nnext: 1\r\n', 'credentials:\r\n  user: ***\r\n  value: ***\r\nnext: 1\r\n'],
    ['{\r\n  "credentials": {\r\n    "user": "a",\r\n    "pin": "1234"\r\n  }\r\n}', '{\r\n  "credentials": {\r\n    "user": ***,\r\n    "pin": ***\r\n  }\r\n}'],
  ]);
});

test('a block scalar under a secret name, or inside a secret block, is masked whole', () => {
  check([
    ['credentials: |\n  hunter2\n  other\nnext: 1', 'credentials: ***\nnext: 1'],
    ['data:\n  credentials.json: |\n    {"user": "a",\n     "value": "pw"}\n  app.conf: x', 'data:\n  credentials.json: ***\n  app.conf: x'],
    ['auth:\n  htpasswd: >-\n    alice:$apr1$abc\n    bob:$apr1$def\nport: 80', 'auth:\n  htpasswd: ***\nport: 80'],
  ]);
});

test('pretty-printed JSON under a secret name: members masked, the block bounded by its brackets', () => {
  check([
    ['{\n  "credentials": {\n    "user": "a",\n    "value": "pw"\n  },\n  "level": "debug"\n}', '{\n  "credentials": {\n    "user": ***,\n    "value": ***\n  },\n  "level": "debug"\n}'],
    ['{\n  "tokens": [\n    "abc",\n    "def"\n  ]\n}', '{\n  "tokens": [\n    ***,\n    ***\n  ]\n}'],
    // docker config.json: the registry (a key) stays, its members are masked
    [
      '{\n  "auths": {\n    "https://index.docker.io/v1/": {\n      "auth": "dXNlcjpwdw==",\n      "email": "a@b.c"\n    }\n  }\n}',
      '{\n  "auths": {\n    "https://index.docker.io/v1/": {\n      "auth": ***,\n      "email": ***\n    }\n  }\n}',
    ],
    // members at the key's own indentation are still inside its brackets
    ['{\n"credentials": {\n"user": "a"\n},\n"level": "debug"\n}', '{\n"credentials": {\n"user": ***\n},\n"level": "debug"\n}'],
    // a flow mapping left open on its line
    ['credentials: {user: a,\n  value: pw}\nnext: 1', 'credentials: ***\n  value: ***\nnext: 1'],
  ]);
  // compact JSON is masked whole as before, docker's config.json included
  check([['{"auths":{"reg.io":{"auth":"dXNlcjpwdw=="}}}', '{"auths":***}']]);
});

test('known non-secret members inside a secret block stay readable', () => {
  const shown = [
    'credentials:\n  secretName: db-creds\n  passwordSecretRef:\n    name: db-creds\n    namespace: prod\n  token_count: 12\n  defaultMode: 420\n  optional: true\n  userName: admin',
    'credentials:\n  items:\n  - key: tls.crt\n    path: cert.pem',
    '{\n  "credentials": {\n    "secretName": "db-creds",\n    "optional": false\n  }\n}',
    'credentials: {}\nnext: 1',
    'credentials:\n  tolerations:\n  - effect: NoSchedule\n    key: dedicated\n    operator: Equal\n    value: gpu',
  ];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
  // the same names with a value of another shape, or another member beside them, are masked
  check([
    ['credentials:\n  optional: hunter2\n  defaultMode: x1', 'credentials:\n  optional: ***\n  defaultMode: ***'],
    ['credentials:\n  passwordSecretRef:\n    name: db\n    value: hunter2', 'credentials:\n  passwordSecretRef:\n    name: db\n    value: ***'],
  ]);
});

test('Kubernetes structures that name Secrets are not masked', () => {
  const shown = [
    'spec:\n  volumes:\n  - name: creds\n    secret:\n      defaultMode: 420\n      items:\n      - key: password\n        path: pw\n        mode: 256\n      optional: false\n      secretName: db-creds\n  - name: data\n    emptyDir: {}',
    'volumes:\n- name: all\n  projected:\n    sources:\n    - secret:\n        name: db-creds\n        items:\n        - key: tls.key\n          path: key.pem\n    - serviceAccountToken:\n        audience: vault\n        expirationSeconds: 3600\n        path: token',
    'env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      key: password\n      name: db\n      optional: false',
    'envFrom:\n- secretRef:\n    name: db-env',
    'spec:\n  imagePullSecrets:\n  - name: regcred\n  containers:\n  - name: app',
    'apiVersion: v1\nkind: ServiceAccount\nimagePullSecrets:\n- name: regcred\nmetadata:\n  name: builder\nsecrets:\n- name: builder-token-x2k9\n  namespace: ci',
    '{\n  "kind": "ServiceAccount",\n  "secrets": [\n    {\n      "name": "builder-token-x2k9"\n    }\n  ]\n}',
    '{"kind":"ServiceAccount","secrets":[{"name":"builder-token-x2k9"}]}',
    'spec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 10800',
    'tls:\n- hosts:\n  - a.example.com\n  secretName: a-tls',
    // managed fields name the members, not their values
    'managedFields:\n- fieldsV1:\n    f:spec:\n      f:volumes:\n        f:secret:\n          .: {}\n          f:secretName: {}',
  ];
  for (const text of shown) assert.equal(maskSecretText(text), text, text);
  // a member the schema does not have is masked, in each of those structures
  check([
    ['secret:\n  secretName: db\n  value: hunter2', 'secret:\n  secretName: db\n  value: ***'],
    ['imagePullSecrets:\n- name: regcred\n  value: hunter2', 'imagePullSecrets:\n- name: regcred\n  value: ***'],
    ['secrets:\n- name: builder-token\n  value: hunter2', 'secrets:\n- name: builder-token\n  value: ***'],
  ]);
});

test('each value masked in a block is counted once', () => {
  const count = { n: 0 };
  maskSecretText('credentials:\n  user: admin\n  value: hunter2\n  note: |\n    a\n    b', count);
  assert.equal(count.n, 3);
  // a secret-named member's JSON comma does not make the forms mask it again
  const json = { n: 0 };
  assert.equal(maskSecretText('{\n  "credentials": {\n    "password": "p",\n    "user": "a"\n  }\n}', json), '{\n  "credentials": {\n    "password": ***,\n    "user": ***\n  }\n}');
  assert.equal(json.n, 2);
});

test('the block scan costs linear time on hostile text', () => {
  const units = [
    'credentials:\n  a: b\n', '"credentials": {\n', 'credentials:\n', '  - x\n', 'password: |\n', 'secret:\n  items:\n  - key: a\n',
    '{\n  "auths": [\n', '- credentials:\n  ', 'password:\n  x\n', 'credentials: {a: b,\n', ' credentials:\n  passwordSecretRef:\n',
    'auth: [\n"a",\n', '}\n', 'a: {\n',
  ];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
  // nesting deeper on each line
  const deep = (n: number) => {
    let s = '';
    for (let i = 0; s.length < n; i++) s += `${' '.repeat(i % 200)}credentials:\n`;
    return s;
  };
  assertLinear('deep', deep, maskSecretText);
});
