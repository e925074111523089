/**
 * kubectl_get, red team: deploy tools keep a copy of the object in an annotation, and some keep it
 * encoded: Banzai Cloud's objectmatcher (used by many operators) writes `banzaicloud.com/last-applied`
 * as base64 of the gzipped JSON manifest, others plain base64. A JSON or YAML copy was cleaned like the
 * object it copies, an encoded one was shown as it was, so `DB_PASSWORD`'s literal value (masked in the
 * spec) and a Secret's data read back once decoded. Now an annotation that is base64 of gzip data, or
 * of text holding a manifest or a secret-named assignment, is masked whole (clean.ts, configmap-values.ts).
 * The same copy written as hex (`xxd -p`, `od -An -tx1 | tr -d ' \n'`, either case) read back the
 * same values: it is masked whole too, and a hex checksum or digest stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { cleanObject } from '../../../tools/kubernetes/clean.js';

const none = new Set<string>();
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');
const deployment = { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'DB_PASSWORD', value: 'LEAK-enc-1' }] }] } } } };
const secret = { apiVersion: 'v1', kind: 'Secret', data: { conn: b64('LEAK-enc-2') } };

test('an annotation holding an encoded copy of a manifest is masked whole', () => {
  const values = {
    'banzaicloud.com/last-applied': b64(gzipSync(JSON.stringify(deployment))),
    'example.com/original': b64(JSON.stringify(secret)),
    'example.com/yaml': b64('apiVersion: v1\nkind: Secret\nstringData:\n  conn: LEAK-enc-3\n'),
    'example.com/env': b64('DB_PASSWORD=LEAK-enc-4\n'),
  };
  for (const kind of ['deployments', 'configmaps', 'pods']) {
    const out = cleanObject(kind, { metadata: { name: 'x', annotations: values } }, none) as { metadata: { annotations: Record<string, string> } };
    for (const k of Object.keys(values)) assert.equal(out.metadata.annotations[k], '***', `${kind} ${k}`);
  }
});

test('an annotation holding a hex-encoded copy of a manifest is masked whole', () => {
  const values = {
    'example.com/last-applied-gz': hex(gzipSync(JSON.stringify(deployment))),
    'example.com/original': hex(JSON.stringify(secret)).toUpperCase(),
    'example.com/yaml': hex('apiVersion: v1\nkind: Secret\nstringData:\n  conn: LEAK-enc-3\n'),
    'example.com/env': hex('DB_PASSWORD=LEAK-enc-4\n'),
    // `xxd -p` wraps at 60 digits.
    'example.com/wrapped': hex(JSON.stringify(secret)).replace(/.{60}/g, '$&\n'),
  };
  for (const kind of ['deployments', 'configmaps', 'pods']) {
    const out = cleanObject(kind, { metadata: { name: 'x', annotations: values } }, none) as { metadata: { annotations: Record<string, string> } };
    for (const k of Object.keys(values)) assert.equal(out.metadata.annotations[k], '***', `${kind} ${k}`);
  }
});

test('base64 annotations that are no copy, and plain checksums, stay readable', () => {
  const values = {
    'checksum/config': 'a3f5c8d9e0b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b',
    'example.com/greeting': b64('hello from the platform team'),
    'example.com/ca-fingerprint': 'q0bTtqfR2nB9X3rG0bP5zV8yJk4mWcQe1sLhDaUiFoY=',
    'deployment.kubernetes.io/revision': '3',
    'example.com/hex-greeting': hex('hello from the platform team'),
    'checksum/config-gz': '1f8b0800e0b1a2c3d4e5f60718293a4b',
  };
  const out = cleanObject('deployments', { metadata: { name: 'x', annotations: values } }, none) as { metadata: { annotations: Record<string, string> } };
  assert.deepEqual(out.metadata.annotations, values);
});
