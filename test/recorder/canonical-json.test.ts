/**
 * Canonical JSON of sealed values (tool-api.ts sealFacts): the recorder keeps one canonical form
 * per sealed object instead of serialising a parser's cached facts on every intent. The form
 * must be byte for byte what an unsealed copy gives, and a sealed value must be immutable, or
 * a kept form could go stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, canonicalParts, joinParts } from '../../src/recorder/canonical-json.js';
import { isSealed, sealFacts } from '../../src/tool-api.js';
import { analyzeSqlCached } from '../../tools/postgres/analysis/index.js';

const sample = () => ({ z: 1, a: [{ y: 'b', x: [1, 2, { k: null, c: true }] }, 'text'], m: { q: -0.5, p: 'é' }, u: undefined });

test('a sealed value has the canonical form of an unsealed copy, asked once or many times', () => {
  const sealed = sealFacts(sample());
  const expected = canonicalJson(sample());
  assert.equal(expected, '{"a":[{"x":[1,2,{"c":true,"k":null}],"y":"b"},"text"],"m":{"p":"é","q":-0.5},"z":1}');
  for (let i = 0; i < 3; i++) assert.equal(canonicalJson(sealed), expected);
  // Nested inside a record body, as an intent carries its facts.
  const body = joinParts(canonicalParts({ id: 'c1', facts: sealed }));
  assert.equal(body, joinParts(canonicalParts({ id: 'c1', facts: sample() })));
});

test('sealing is deep: a sealed value and everything in it is frozen and cannot change', () => {
  const v = sealFacts(sample());
  assert.ok(isSealed(v));
  assert.ok(Object.isFrozen(v) && Object.isFrozen(v.a) && Object.isFrozen(v.a[0]) && Object.isFrozen((v.a[0] as { x: unknown[] }).x));
  assert.throws(() => ((v.m as { q: number }).q = 1), TypeError);
  assert.equal(canonicalJson(v), canonicalJson(sample()));
  // An unsealed object of the same shape is serialised afresh (no form kept for it).
  const open = sample();
  const before = canonicalJson(open);
  open.z = 2;
  assert.notEqual(canonicalJson(open), before);
  assert.ok(!isSealed(open));
});

test('the SQL analyser seals its facts, and their kept form matches a fresh serialisation', () => {
  const facts = analyzeSqlCached('SELECT id, email FROM users WHERE id = $1');
  assert.ok(isSealed(facts), 'cached facts are sealed');
  const copy = structuredClone(facts);
  assert.ok(!isSealed(copy));
  assert.equal(canonicalJson(facts), canonicalJson(copy));
  assert.equal(canonicalJson(facts), canonicalJson(facts));
});
