/**
 * Canonical JSON of sealed values (tool-api.ts sealFacts): the recorder keeps one canonical form
 * per sealed object instead of serialising a parser's cached facts on every intent. The form
 * must be byte for byte what an unsealed copy gives, and a sealed value must be immutable, or
 * a kept form could go stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { canonicalJson, canonicalParts, joinParts, quote } from '../../src/recorder/canonical-json.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';
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

// Strings JSON.stringify escapes (quote, backslash, controls, lone surrogates) or leaves as they are
// (a surrogate pair, U+2028/2029, DEL, non-ASCII), alone and inside longer text.
const TRICKY = ['', 'plain', 'a"b', 'a\\b', '\u0000', '\u001f', '\n\t\r\b\f', '\u007f', '\u2028\u2029', 'é€', '😀', '\ud83d', '\ude00', 'x\ud800y', '\udfff\ud800', '"', '\\'];

test('quote writes every string as JSON.stringify does, escapes and lone surrogates included', () => {
  for (const t of TRICKY) {
    for (const s of [t, `head ${t} tail`, t.repeat(3)]) assert.equal(quote(s), JSON.stringify(s), JSON.stringify(s));
  }
  for (let c = 0; c < 0x10000; c++) {
    const s = String.fromCharCode(c);
    assert.equal(quote(s), JSON.stringify(s), `U+${c.toString(16)}`);
  }
  // As keys, values and nested members, the canonical form is JSON.stringify's over sorted keys.
  const obj = Object.fromEntries(TRICKY.map((t, i) => [t, [t, i, -0, 1e21, 0.1, { [t]: t }]]));
  const sorted = (v: unknown): unknown => (Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v);
  assert.equal(canonicalJson(obj), JSON.stringify(sorted(obj)));
  assert.equal(joinParts(canonicalParts(obj)), JSON.stringify(sorted(obj)));
});

test('recording a call quotes its short strings without JSON.stringify (once per array of primitives: rows, ruleIds, tables)', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await store.openSession(session('s1'));
  const original = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((...a: Parameters<typeof JSON.stringify>) => (calls++, original(...a))) as typeof JSON.stringify;
  try {
    await store.recordIntent(intent('c1', 's1'));
    const o = outcome();
    await store.recordOutcome('c1', { ...o, result: { columns: [{ name: 'id' }, { name: 'email', masked: 'partial' }], rows: [[1, '[email]'], [2, '[email]']], row_count: 2 } });
  } finally {
    JSON.stringify = original;
  }
  // Before, each key, string and number of both bodies went through JSON.stringify (66 calls here).
  assert.ok(calls <= 3, `JSON.stringify called ${calls} times`);
  assert.equal((await store.verify()).ok, true);
  const call = await store.getCall('c1');
  assert.deepEqual(call?.outcome?.result, { columns: [{ name: 'id' }, { name: 'email', masked: 'partial' }], rows: [[1, '[email]'], [2, '[email]']], row_count: 2 });
});
