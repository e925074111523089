/**
 * CRLF line endings (a Windows file printed by `cat`, `type` over ssh, a manifest saved on
 * Windows) in the line-based rules of Secret manifests (secret-manifests.ts) and name/value
 * items (name-value-items.ts). A line's `\r` kept the key-line pattern from matching (`.` stops
 * at it), so each masked case below leaked before. Command output reaches them with its `\r`:
 * plainText keeps it, as a terminal shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretStreams, maskSecretText } from '../../../tools/shared/secret-text.js';
import { plainText } from '../../../tools/shared/terminal-text.js';
import { assertLinear, repeatedTo } from '../../support/best-of.js';

const crlf = (s: string) => s.replace(/\n/g, '\r\n');

test('command output keeps its CR before the maskers read it: nothing normalises it earlier', () => {
  const text = 'kind: Secret\r\ndata:\r\n  k: c2VjcmV0\r\n';
  assert.equal(plainText(text), text);
  const { streams, masked } = maskSecretStreams({ stdout: text });
  assert.equal(streams.stdout, 'kind: Secret\r\ndata:\r\n  k: ***\r\n');
  assert.equal(masked, 1);
});

test('a Secret manifest with CRLF lines loses its data like the LF one, the CRs kept', () => {
  const cases: [string, string][] = [
    ['apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  url: LEAK\n  cert: |\n    LEAK2\ndata:\n  other: TEVBSy15Mw==\nEOF\necho done', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  url: ***\n  cert: |\n    ***\ndata:\n  other: ***\nEOF\necho done'],
    // a List as kubectl sorts it: data before kind, a ConfigMap beside it keeps its data
    ['items:\n- apiVersion: v1\n  data:\n    k: TEVBSy15NA==\n  kind: Secret\n- data:\n    LOG_LEVEL: debug\n  kind: ConfigMap\nkind: List\n', 'items:\n- apiVersion: v1\n  data:\n    k: ***\n  kind: Secret\n- data:\n    LOG_LEVEL: debug\n  kind: ConfigMap\nkind: List\n'],
    // pretty-printed JSON
    ['{\n  "apiVersion": "v1",\n  "data": {\n    "k": "c2VjcmV0"\n  },\n  "kind": "Secret"\n}', '{\n  "apiVersion": "v1",\n  "data": {\n    "k": ***\n  },\n  "kind": "Secret"\n}'],
    // YAML flow over several lines
    ['apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: {password: c2VjcmV0,\n  user: YWRt}\ntype: Opaque', 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata: ***\ntype: Opaque'],
    ['{apiVersion: v1, kind: Secret,\n  metadata: {name: db},\n  data: {password: c2VjcmV0,\n    user: YWRt}}\nnext: line', '{apiVersion: v1, kind: Secret,\n  metadata: {name: db},\n  data: ***}\nnext: line'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(crlf(text)), crlf(want), JSON.stringify(crlf(text)));
  // not a Secret: stays as it is
  for (const kept of ['apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n', 'kind: Secret\nmetadata:\n  name: s\ntype: Opaque\n']) {
    assert.equal(maskSecretText(crlf(kept)), crlf(kept), JSON.stringify(crlf(kept)));
  }
});

test('a secret-named name/value item with CRLF lines loses its value like the LF one, the CRs kept', () => {
  const cases: [string, string][] = [
    ['env:\n- name: DB_PASSWORD\n  value: hunter2\n- name: LOG\n  value: info', 'env:\n- name: DB_PASSWORD\n  value: ***\n- name: LOG\n  value: info'],
    ['    - name: "STRIPE_KEY"\n      value: "sk live"\n', '    - name: "STRIPE_KEY"\n      value: ***\n'],
    ['- name: DB_PASSWORD\n  image: x\n  value: hunter2', '- name: DB_PASSWORD\n  image: x\n  value: ***'],
    ['- value: hunter2\n  foo: 1\n  name: DB_PASSWORD', '- value: ***\n  foo: 1\n  name: DB_PASSWORD'],
    // a block scalar value: its lines go too
    ['- name: TLS_KEY\n  value: |\n    line-one\n    line-two\n- name: X\n  value: y', '- name: TLS_KEY\n  value: ***\n- name: X\n  value: y'],
  ];
  for (const [text, want] of cases) assert.equal(maskSecretText(crlf(text)), crlf(want), JSON.stringify(crlf(text)));
  for (const kept of ['- name: LOG_LEVEL\n  value: debug', '- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: {name: db, key: pw}\n- name: LOG\n  value: info', '- name: DB_PASSWORD\n- value: info']) {
    assert.equal(maskSecretText(crlf(kept)), crlf(kept), JSON.stringify(crlf(kept)));
  }
});

test('CRLF manifests and name/value items cost linear time on hostile text', () => {
  for (const unit of ['kind: Secret\r\ndata:\r\n', 'data:\r\n  k: v\r\n', '- name: TOKEN\r\n', '  value: x\r\n', '\r\r\n', 'kind: Secret\r\ndata: {a: b,\r\n']) {
    assertLinear(JSON.stringify(unit), repeatedTo(unit), maskSecretText);
  }
});
