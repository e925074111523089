/**
 * secret-env.ts by itself: which Secrets a pod spec's environment takes values from, and how
 * their values are masked in output (spellings, lines of a multi-line value, a cut end). The
 * end-to-end leak and its fix are in test/e2e/kubernetes-secret-env.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretValues, secretEnvOf } from '../../../tools/kubernetes/secret-env.js';

test('secretEnvOf: secretKeyRef keys and envFrom Secrets of every container list, merged per Secret; ConfigMaps only under a secret name or by envFrom; optional only when every reference is', () => {
  const refs = secretEnvOf({
    containers: [{ name: 'a', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's1', key: 'k1' } } }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }, { name: 'DB_PASSWORD', valueFrom: { configMapKeyRef: { name: 'c2', key: 'pw' } } }, { name: 'C', value: 'plain' }] }],
    initContainers: [{ name: 'i', env: [{ name: 'D', valueFrom: { secretKeyRef: { name: 's1', key: 'k2', optional: true } } }] }],
    ephemeralContainers: [{ name: 'e', envFrom: [{ secretRef: { name: 's2', optional: true } }, { configMapRef: { name: 'c' } }] }],
  });
  const ref = (kind: string, name: string, keys: string[] | null, optional: boolean, envNames = {}, prefixes: string[] = []) => ({ kind, name, keys, optional, envNames, prefixes });
  assert.deepEqual(refs.refs, [ref('Secret', 's1', ['k1', 'k2'], false), ref('ConfigMap', 'c2', ['pw'], false, { pw: ['DB_PASSWORD'] }), ref('Secret', 's2', null, true), ref('ConfigMap', 'c', null, false, {}, [''])]);
  assert.deepEqual(refs.literals, []);
  const literal = secretEnvOf({ containers: [{ name: 'a', env: [{ name: 'A', value: 'x' }, { name: 'DB_PASSWORD', value: 'hunter2-lit' }, { name: 'max_tokens', value: '4096' }] }] });
  assert.deepEqual(literal, { refs: [], literals: ['hunter2-lit'] });
});

test('maskSecretValues: whole values, JSON-escaped and shell-quoted spellings, the lines of a multi-line value; short values and other text stay', () => {
  const values = ['pa"ss$word', 'line-one-secret\nline-two-secret', 'abc'];
  const out = maskSecretValues({ o: 'A=pa"ss$word\n{"A":"pa\\"ss$word"}\ndeclare -x A="pa\\"ss\\$word"\nline-one-secret\nline-two-secret\nabc kept\n' }, values, false);
  assert.equal(out.streams.o, 'A=***\n{"A":"***"}\ndeclare -x A="***"\n***\n***\nabc kept\n');
  assert.equal(out.masked, 5);
});

test('maskSecretValues: a prefix of a value at a cut end is masked, only where the output was cut', () => {
  assert.equal(maskSecretValues({ o: 'x\nUP=hunter' }, ['hunter2-secret'], true).streams.o, 'x\nUP=***');
  assert.equal(maskSecretValues({ o: 'x\nUP=hunter' }, ['hunter2-secret'], false).streams.o, 'x\nUP=hunter');
  assert.equal(maskSecretValues({ o: 'done\n' }, ['hunter2-secret'], true).streams.o, 'done\n');
  // Self-overlapping values: the longest prefix the text ends with, not the first candidate.
  assert.equal(maskSecretValues({ o: 'k=zaaaaab aaaa' }, ['aaaab-secret'], true).streams.o, 'k=zaaaaab ***');
  assert.equal(maskSecretValues({ o: 'k=abab' }, ['ababc-secret'], true).streams.o, 'k=***');
  assert.equal(maskSecretValues({ o: 'k=abax' }, ['ababc-secret'], true).streams.o, 'k=abax');
});
