/**
 * Secrets that the named-secret masker did not see because they sit inside something else: an
 * assignment nested in a non-secret assignment's value (`JAVA_OPTS=-Ddb.password=...`), a
 * Secret manifest kept as text (the last-applied annotation, a here-doc, `kubectl get -o
 * yaml|json` run through kubectl_exec or ssh_run), JSON encoded twice, and env-style name/value
 * pairs. Each leaked before; ordinary text stays as it was, and the cost stays linear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const leaks = (out: string, values: string[]) => values.filter((v) => out.includes(v));

test('a secret assignment nested in the value of a non-secret assignment is masked, the rest kept', () => {
  const cases: [string, string][] = [
    ['JAVA_OPTS=-Ddb.password=hunter2 -Xmx1g', 'JAVA_OPTS=-Ddb.password=*** -Xmx1g'],
    ['opts=password=hunter2', 'opts=password=***'],
    ['CATALINA_OPTS="-Djavax.net.ssl.keyStorePassword=s3cret"', 'CATALINA_OPTS="-Djavax.net.ssl.keyStorePassword=***"'],
    ['export JAVA_OPTS="-Xmx1g -Ddb.password=hunter2 -Dx=1"', 'export JAVA_OPTS="-Xmx1g -Ddb.password=*** -Dx=1"'],
    ['spark-submit --conf spark.hadoop.fs.s3a.secret.key=AKIAEXAMPLE app.jar', 'spark-submit --conf spark.hadoop.fs.s3a.secret.key=*** app.jar'],
    ['app 12 java -Dlog=info -Dapp.opts=db.password=hunter2 -jar a.jar', 'app 12 java -Dlog=info -Dapp.opts=db.password=*** -jar a.jar'],
    ['a=b=c=password=hunter2', 'a=b=c=password=***'],
    ['{"opts":"-Ddb.password=hunter2 -Xmx1g"}', '{"opts":"-Ddb.password=*** -Xmx1g"}'],
  ];
  for (const [line, want] of cases) assert.equal(maskSecretText(line), want, line);
});

test('a Secret manifest kept as YAML text loses its data and stringData values, other text stays', () => {
  const heredoc = [
    'cat <<EOF | kubectl apply -f -',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: db',
    'stringData:',
    '  url: LEAK-y1',
    '  cert: |',
    '    LEAK-y2',
    'data:',
    '  other: TEVBSy15Mw==',
    'EOF',
    'echo done',
  ].join('\n');
  const out = maskSecretText(heredoc);
  assert.deepEqual(leaks(out, ['LEAK-y1', 'LEAK-y2', 'TEVBSy15Mw==']), [], out);
  for (const kept of ['name: db', 'kind: Secret', 'echo done', '  url: ', 'cat <<EOF']) assert.ok(out.includes(kept), kept);
  // `kubectl get secret,cm -o yaml` (a List, kind after data as kubectl sorts keys): only the Secret's data.
  const list = [
    'apiVersion: v1',
    'items:',
    '- apiVersion: v1',
    '  data:',
    '    k: TEVBSy15NA==',
    '  kind: Secret',
    '  metadata:',
    '    name: s',
    '  type: Opaque',
    '- apiVersion: v1',
    '  data:',
    '    LOG_LEVEL: debug-kept',
    '  kind: ConfigMap',
    'kind: List',
  ].join('\n');
  const l = maskSecretText(list);
  assert.deepEqual(leaks(l, ['TEVBSy15NA==']), [], l);
  assert.ok(l.includes('LOG_LEVEL: debug-kept'), l);
  // A ConfigMap whose data value holds a Secret manifest (kubectl get cm -o yaml).
  const cm = 'apiVersion: v1\ndata:\n  secret.yaml: |\n    apiVersion: v1\n    kind: Secret\n    data:\n      k: TEVBSy15NQ==\nkind: ConfigMap\n';
  assert.deepEqual(leaks(maskSecretText(cm), ['TEVBSy15NQ==']), [], maskSecretText(cm));
});

test('a Secret manifest kept as JSON text (the last-applied annotation) loses its data', () => {
  const yamlOut = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  annotations:',
    '    kubectl.kubernetes.io/last-applied-configuration: |',
    '      {"apiVersion":"v1","data":{"k":"TEVBSy1qMQ=="},"kind":"Secret","metadata":{"name":"s"},"stringData":{"p":"LEAK-j2"}}',
    '  name: c',
  ].join('\n');
  const y = maskSecretText(yamlOut);
  assert.deepEqual(leaks(y, ['TEVBSy1qMQ==', 'LEAK-j2']), [], y);
  assert.ok(y.includes('"metadata":{"name":"s"}'), y);
  // `kubectl get -o json`: the annotation is a JSON string holding the Secret's JSON.
  const jsonOut = JSON.stringify({ metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', data: { k: 'TEVBSy1qMw==' }, kind: 'Secret', metadata: { name: 's' } }) + '\n' }, name: 'c' } }, null, 4);
  const j = maskSecretText(jsonOut);
  assert.deepEqual(leaks(j, ['TEVBSy1qMw==']), [], j);
  assert.ok(j.includes('"name": "c"'), j);
  // Pretty-printed `kubectl get secret -o json` through kubectl_exec.
  const pretty = JSON.stringify({ apiVersion: 'v1', data: { 'tls.crt': 'TEVBSy1qNA==', k: 'TEVBSy1qNQ==' }, kind: 'Secret', metadata: { name: 's' }, type: 'Opaque' }, null, 4);
  const p = maskSecretText(pretty);
  assert.deepEqual(leaks(p, ['TEVBSy1qNA==', 'TEVBSy1qNQ==']), [], p);
  assert.ok(p.includes('"type": "Opaque"'), p);
});

test('JSON encoded twice: a JSON string holding secret-named members or a Secret is masked', () => {
  const cases: [string, string[]][] = [
    ['{"config":"{\\"password\\":\\"LEAK-d1\\"}"}', ['LEAK-d1']],
    ['level=info msg="{\\"password\\":\\"LEAK-d2\\",\\"user\\":\\"bob\\"}"', ['LEAK-d2']],
    [JSON.stringify({ msg: JSON.stringify({ db: { apiKey: 'LEAK-d3' }, ok: true }) }), ['LEAK-d3']],
    [JSON.stringify({ msg: JSON.stringify({ kind: 'Secret', data: { k: 'TEVBSy1kNA==' } }) }), ['TEVBSy1kNA==']],
    [JSON.stringify({ outer: JSON.stringify({ inner: JSON.stringify({ token: 'LEAK-d5' }) }) }), ['LEAK-d5']],
  ];
  for (const [text, secrets] of cases) {
    const out = maskSecretText(text);
    assert.deepEqual(leaks(out, secrets), [], out);
  }
  assert.equal(maskSecretText('{"config":"{\\"password\\":\\"LEAK\\",\\"user\\":\\"bob\\"}"}'), '{"config":"{\\"password\\":***,\\"user\\":\\"bob\\"}"}');
  // Cut at the output cap inside the inner string: masked to the end.
  const cut = '{"config":"{\\"password\\":\\"LEAK-d6';
  assert.deepEqual(leaks(maskSecretText(cut), ['LEAK-d6']), [], maskSecretText(cut));
});

test('name/value pairs with a secret-looking name lose the value; other pairs stay', () => {
  const cases: [string, string][] = [
    ['{"name":"DB_PASSWORD","value":"hunter2"}', '{"name":"DB_PASSWORD","value":***}'],
    ['{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "info"}', '{"name": "DB_PASSWORD", "value": ***}, {"name": "LOG_LEVEL", "value": "info"}'],
    ['        {\n            "name": "API_TOKEN",\n            "value": "hunter2"\n        }', '        {\n            "name": "API_TOKEN",\n            "value": ***\n        }'],
    ['env:\n- name: DB_PASSWORD\n  value: hunter2\n- name: LOG\n  value: info', 'env:\n- name: DB_PASSWORD\n  value: ***\n- name: LOG\n  value: info'],
    ['    - name: "STRIPE_KEY"\n      value: "sk live"', '    - name: "STRIPE_KEY"\n      value: ***'],
    ['env: [{name: DB_PASSWORD, value: hunter2}, {name: PORT, value: 80}]', 'env: [{name: DB_PASSWORD, value: ***}, {name: PORT, value: 80}]'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
});

test('ordinary text and non-secret names stay as they are', () => {
  for (const t of [
    'password policy updated',
    'the token was refreshed for user bob',
    'JAVA_OPTS=-Xmx1g -Dfile.encoding=UTF-8 -Dlog.level=info',
    'opts=a=b c=d',
    'x == y && a=b',
    'url=https://example.com/a?b=c&d=e',
    '- name: LOG_LEVEL\n  value: debug',
    '{"name":"PORT","value":"8080"}',
    'apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  url: http://db\n',
    '{"apiVersion":"v1","kind":"ConfigMap","data":{"k":"v"}}',
    'msg="{\\"user\\":\\"bob\\",\\"n\\":2}"',
    '{"kind":"Secret","metadata":{"name":"s"}}',
    'kind: Secret\nmetadata:\n  name: s\ntype: Opaque',
  ]) assert.equal(maskSecretText(t), t, t);
});

test('the new forms cost linear time on hostile text (100 KB within the existing bounds)', () => {
  const units = ['a=', '=a', 'password=a=', '-Da.password=', '"{\\"', '"{\\"a\\":\\"', '- name: TOKEN\n', '  value: x\n', 'kind: Secret\ndata:\n', 'data:\n  k: v\n', '  - a: b\n', '{"name":"TOKEN","value":', '{"kind":"Secret","data":{'];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
});
