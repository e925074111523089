import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { canonicalJson, canonicalParts, joinParts } from '../../src/recorder/canonical-json.js';

const reference = (prev: string, kind: string, ref: string, ts: string, body: string) =>
  createHash('sha256').update(Buffer.from(`${prev}\n${kind}\n${ref}\n${ts}\n${body}`, 'utf8')).digest('hex');

test('recordHash is sha256 over the header and the body, for small and large bodies, non-ASCII and lone surrogates included', () => {
  const prev = 'a'.repeat(64);
  for (const body of ['{}', 'x'.repeat(4096), 'x'.repeat(4097), 'é\u{1F600}'.repeat(3000), `{"text":"${'row\\t1\\n'.repeat(20000)}"}`, '\ud800'.repeat(5000)]) {
    assert.equal(recordHash(prev, 'call_outcome', 'c1', '2026-11-28T00:00:00.000Z', body), reference(prev, 'call_outcome', 'c1', '2026-11-28T00:00:00.000Z', body), `${body.length} units`);
  }
});

test('canonical bodies are the same bytes whether parts are joined or assembled, with few or many members', () => {
  const big = 'line\tcell\n'.repeat(8000);
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i]));
  for (const v of [{ result: [{ type: 'text', text: big }], status: 'ok' }, many, { a: [1, { b: 2 }, [3]], z: null }, [{ x: 1 }, { y: 2 }]]) {
    const sorted = JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
    assert.equal(canonicalJson(v), sorted);
    if (!Array.isArray(v)) assert.equal(joinParts(canonicalParts(v)), sorted);
  }
});
