/**
 * Follow-ups of the named-secret masker: a Secret in YAML flow spread over several lines, a
 * secret-named `name:` whose `value:` comes after (or before) other keys of the same item, in
 * YAML and JSON, and the false positives of the name rule in ordinary kubectl and ssh output
 * (`author`, `authority`, `passwordless`, the key NAME in a `secretKeyRef`, `secretName:`). Each
 * case leaked (or was masked for nothing) before; every new matcher stays linear on hostile text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText, secretName } from '../../../tools/shared/secret-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const leaks = (out: string, values: string[]) => values.filter((v) => out.includes(v));

test('a Secret in YAML flow spread over several lines loses its data', () => {
  const block = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: c2VjcmV0,\n  user: YWRt}\ntype: Opaque';
  assert.equal(maskSecretText(block), 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: ***\ntype: Opaque');
  const flow = '{apiVersion: v1, kind: Secret,\n  metadata: {name: db},\n  data: {password: c2VjcmV0,\n    user: YWRt}}\nnext: line';
  assert.equal(maskSecretText(flow), '{apiVersion: v1, kind: Secret,\n  metadata: {name: db},\n  data: ***}\nnext: line');
  // `kind` after the data, on a later line; stringData; a Secret item of a block list.
  const cases = [
    '{data: {k: c2VjcmV0,\n  k2: YWRt},\n  kind: Secret}',
    'items:\n- {kind: Secret, stringData: {a: c2VjcmV0,\n    b: YWRt}}\n- kind: ConfigMap',
    'kind: Secret\nstringData: {\n  a: c2VjcmV0, b: YWRt}',
  ];
  for (const text of cases) {
    const out = maskSecretText(text);
    assert.deepEqual(leaks(out, ['c2VjcmV0', 'YWRt']), [], out);
  }
  // Not a Secret: a multi-line flow ConfigMap keeps its data, a block Secret after a flow
  // ConfigMap is still read by its indentation.
  const cm = 'kind: ConfigMap\ndata: {level: debug,\n  mode: blue}';
  assert.equal(maskSecretText(cm), cm);
  const both = '{kind: ConfigMap, data: {level: debug,\n  mode: blue}}\n---\nkind: Secret\ndata:\n  k: c2VjcmV0\n';
  assert.equal(maskSecretText(both), '{kind: ConfigMap, data: {level: debug,\n  mode: blue}}\n---\nkind: Secret\ndata:\n  k: ***\n');
});

test('a secret-named name: with its value: after (or before) other keys of the item is masked', () => {
  const cases: [string, string][] = [
    ['- name: DB_PASSWORD\n  image: x\n  value: hunter2', '- name: DB_PASSWORD\n  image: x\n  value: ***'],
    ['env:\n  - name: "API_TOKEN"\n    foo: 1\n    bar:\n      deep: x\n    value: hunter2\n  - name: LOG\n    value: info', 'env:\n  - name: "API_TOKEN"\n    foo: 1\n    bar:\n      deep: x\n    value: ***\n  - name: LOG\n    value: info'],
    ['- value: hunter2\n  foo: 1\n  name: DB_PASSWORD', '- value: ***\n  foo: 1\n  name: DB_PASSWORD'],
    // A block scalar value: its lines go too.
    ['- name: TLS_KEY\n  value: |\n    line-one\n    line-two\n- name: X\n  value: y', '- name: TLS_KEY\n  value: ***\n- name: X\n  value: y'],
    ['{"name":"DB_PASSWORD","foo":1,"value":"hunter2"}', '{"name":"DB_PASSWORD","foo":1,"value":***}'],
    ['{"name": "DB_PASSWORD", "foo": "a,b", "bar": true, "value": "hunter2"}', '{"name": "DB_PASSWORD", "foo": "a,b", "bar": true, "value": ***}'],
    ['{\n  "name": "DB_PASSWORD",\n  "foo": 1,\n  "value": "hunter2"\n}', '{\n  "name": "DB_PASSWORD",\n  "foo": 1,\n  "value": ***\n}'],
    ['{name: DB_PASSWORD, foo: 1, value: hunter2}', '{name: DB_PASSWORD, foo: 1, value: ***}'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(text), want, text);
  // The pair belongs to one item: the next item's value, a sibling list's value and a nested
  // mapping's value are not the secret name's.
  for (const kept of [
    '- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: {name: db, key: pw}\n- name: LOG\n  value: info',
    '- name: DB_PASSWORD\n- value: info',
    '- name: DB_PASSWORD\n  meta:\n    value: info',
    '{"name":"DB_PASSWORD","valueFrom":{"x":1}},{"value":"info"}',
    '{"name":"LOG","foo":1,"value":"info"}',
  ]) assert.equal(maskSecretText(kept), kept, kept);
});

test('words that only look secret are not: author, authority, passwordless, ...', () => {
  for (const name of ['author', 'author_email', 'AUTHOR', 'authority', 'certificate-authority-data', 'authored_at', 'passwordless', 'PASSWORDLESS_LOGIN', 'passive', 'passthrough', 'tests_passed', 'credentialless', 'cookieless', 'secretless', 'tokenless', 'keyboard', 'monkey', 'tokenizer', 'private', 'private_ip', 'isPrivate', 'secretKeyRef', 'configMapKeyRef', 'secretRef', 'secretName', 'SECRET_NAME', 'token_ref']) {
    assert.equal(secretName(name), false, name);
  }
  for (const name of ['auth', 'authorization', 'Authorization', 'authorisation', 'oauth_token', 'TS_AUTHKEY', 'authn', 'password', 'passwords', 'DB_PASS', 'dbPass', 'pass', 'passwd', 'passphrase', 'private_key', 'privateKey', 'PRIVATE-KEY', 'privkey', 'secret', 'client_secret', 'secret_name_password', 'api_key', 'key', 'session_id', 'cookie']) {
    assert.equal(secretName(name), true, name);
  }
  for (const kept of ['author: bob', 'author_email=bob@example.com', '"private": true', 'passwordless: true', 'certificate-authority-data: LS0tLS1CRUdJTg==', 'secretName: db-creds', 'Cross-Origin-Embedder-Policy: credentialless']) {
    assert.equal(maskSecretText(kept), kept, kept);
  }
  assert.equal(maskSecretText('Authorization: Bearer abc'), 'Authorization: ***');
  assert.equal(maskSecretText('private_key=abc'), 'private_key=***');
});

test('the key NAME in a secretKeyRef or configMapKeyRef is shown; a key elsewhere is still masked', () => {
  const kept = [
    'valueFrom:\n  secretKeyRef:\n    key: password\n    name: db',
    'valueFrom:\n  secretKeyRef:\n    name: db\n    optional: false\n    key: password',
    'secretKeyRef: {name: db, key: password}',
    '"secretKeyRef":{"key":"password","name":"db"}',
    '"configMapKeyRef": {\n  "name": "app",\n  "key": "user"\n}',
  ];
  for (const text of kept) assert.equal(maskSecretText(text), text, text);
  const masked: [string, string][] = [
    ['key: hunter2', 'key: ***'],
    ['secretKeyRef:\n  name: db\nkey: hunter2', 'secretKeyRef:\n  name: db\nkey: ***'],
    ['{"secretKeyRef":{"name":"db"},"other":1,"key":"hunter2"}', '{"secretKeyRef":{"name":"db"},"other":1,"key":***}'],
    ['https://maps.example.com/api?key=hunter2', 'https://maps.example.com/api?key=***'],
  ];
  for (const [text, want] of masked) assert.equal(maskSecretText(text), want, text);
});

test('the new matchers cost linear time on hostile text', () => {
  const units = [
    // name/value pairs with members between (JSON, YAML flow, YAML block), names without values
    '"name":"TOKEN",', '{"name":"TOKEN","a":1,', '"a":"b",', '{name: TOKEN, a: 1, ', 'name: TOKEN, ',
    '- name: TOKEN\n  a: 1\n', 'name: TOKEN\n a:\n', '  value: |\n', 'value: x\n name: TOKEN\n',
    // multi-line flow Secrets: unclosed brackets, deeper lines, kind beside them
    '{kind: Secret, data: {a: b,\n', ' {a: [b,\n', '{kind: Secret,\n  ', 'data: {k: v,\n  ',
    // key names after KeyRef
    'secretKeyRef: {name: a, key: b}\n', 'KeyRef:\n  key: ', ' key: x,',
  ];
  for (const unit of units) assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
});

test('pretty-printed JSON pairs keep their commas (the YAML item scan leaves quoted keys alone)', () => {
  const text = '{\n  "name": "DB_PASSWORD",\n  "foo": 1,\n  "value": "hunter2",\n  "x": "name: a, value: 2"\n}';
  assert.equal(maskSecretText(text), '{\n  "name": "DB_PASSWORD",\n  "foo": 1,\n  "value": ***,\n  "x": "name: a, value: 2"\n}');
});
