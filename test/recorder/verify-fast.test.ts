import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { CallIntent } from '../../src/recorder/types.js';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import { C, fastConsistent, newCounts, type RawRow } from '../../src/recorder/verify-fast.js';
import { intent, outcome, session } from './fixtures.js';

test('bodies the fast check cannot rebuild still verify through the exact check', async (t) => {
  const store = openSqliteStore(':memory:');
  t.after(() => store.close());
  await store.openSession(session('s1'));
  // An extra member and an omitted nullable member: valid bodies, not the shape the fast path rebuilds.
  await store.recordIntent({ ...intent('c1', 's1'), note: 'extra' } as CallIntent);
  const { connection: _omit, ...noConnection } = intent('c2', 's1');
  await store.recordIntent(noConnection as CallIntent);
  await store.recordOutcome('c1', { ...outcome(), durationMs: 1.25 });
  await store.closeSession('s1', '2026-11-27T10:05:00.000Z');
  const v = await store.verify();
  assert.equal(v.ok, true);
  assert.equal(v.records, 5); // open, two intents, one outcome, close
});

test('the fast check accepts only a body rebuilt byte for byte from its row', () => {
  const counts = newCounts();
  const rec: RawRow = [7, 'session_close', 's1', '2026-11-27T10:05:00.000Z', '{"endedAt":"2026-11-27T10:05:00.000Z","id":"s1"}', 'p', 'h'];
  const row: RawRow = ['s1', 'alice', '{}', '{}', 'stdio', '2026-11-27T10:00:00.000Z', '2026-11-27T10:05:00.000Z', 1, 7];
  assert.equal(fastConsistent(rec, row, counts), true);
  assert.equal(counts.closes, 1);
  assert.equal(fastConsistent(rec, [...row.slice(0, 8), 8], counts), false, 'close_seq elsewhere');
  assert.equal(fastConsistent([...rec.slice(0, 4), '{"id":"s1","endedAt":"2026-11-27T10:05:00.000Z"}', 'p', 'h'], row, counts), false, 'key order');
  assert.equal(fastConsistent(rec, undefined, counts), false, 'no row in place');
  assert.equal(counts.closes, 1);
});

// Values that stress the comparison: characters JSON escapes, paired and lone
// surrogates, the text "undefined", empty strings, and one member's text inside another's.
const TRICKY = ['plain', '', 'quo"te', 'back\\slash', 'tab\there', 'nl\nx', '\u0000', '\u001f', 'é ünï', '😀', '\ud83d', 'x\udc00', 'undefined', '"connection":"a"', 'a'.repeat(300)];

function pick(seed: number, i: number): string {
  return TRICKY[(seed * 7 + i * 13) % TRICKY.length]!;
}

test('the fast check accepts the canonical body its row implies and refuses any one-character change', () => {
  // It may also answer "ask the exact check" for a valid body (one holding the text `undefined`):
  // that costs time, never a verdict. Accepting a changed body would be a verdict lost.
  // Oracle: the body the real writer builds (canonicalJson), and the row that stores its parts.
  for (let seed = 0; seed < 60; seed++) {
    const args = { sql: pick(seed, 1), k: [pick(seed, 2), 1] };
    const facts = seed % 5 ? { t: pick(seed, 3) } : null;
    const members = {
      args, connection: seed % 4 ? pick(seed, 4) : null, decision: pick(seed, 5), facts, factsSummary: pick(seed, 6),
      id: `c${pick(seed, 7)}`, policyVersion: pick(seed, 8), ruleIds: [pick(seed, 9)], sessionId: pick(seed, 10),
      startedAt: pick(seed, 11), tool: pick(seed, 12),
    };
    const body = canonicalJson(members);
    const row: RawRow = [members.id, members.sessionId, 5, members.tool, members.connection, canonicalJson(args), members.factsSummary,
      canonicalJson(facts), members.decision, canonicalJson(members.ruleIds), members.policyVersion, members.startedAt,
      null, null, null, null, null, null, null];
    const rec = (b: string): RawRow => [5, 'call_intent', members.id, members.startedAt, b, 'p', 'h'];
    if (!body.includes('undefined')) assert.equal(fastConsistent(rec(body), row, newCounts()), true, `seed ${seed}: the writer's own body`);
    for (let at = 0; at < body.length; at += 1 + (seed % 7)) {
      const code = body.charCodeAt(at);
      const changed = body.slice(0, at) + String.fromCharCode(code === 0x61 ? 0x62 : 0x61) + body.slice(at + 1);
      assert.equal(fastConsistent(rec(changed), row, newCounts()), false, `seed ${seed}: changed at ${at}`);
      assert.equal(fastConsistent(rec(body.slice(0, at) + body.slice(at + 1)), row, newCounts()), false, `seed ${seed}: cut at ${at}`);
    }
    assert.equal(fastConsistent(rec(body + ' '), row, newCounts()), false, `seed ${seed}: a trailing byte`);

    const result = seed % 3 ? { rows: [[pick(seed, 13)]] } : null;
    const outcomeMembers = { callId: members.id, durationMs: seed % 2 ? 3.5 : null, endedAt: pick(seed, 14), errorCode: seed % 6 ? null : pick(seed, 15),
      masking: null, result, status: pick(seed, 16) };
    const outBody = canonicalJson(outcomeMembers);
    const outRow: RawRow = [...row.slice(0, 12), outcomeMembers.status, outcomeMembers.errorCode, seed % 4 ? canonicalJson(result) : null,
      canonicalJson(null), outcomeMembers.durationMs, outcomeMembers.endedAt, 9];
    const outRec = (b: string): RawRow => [9, 'call_outcome', members.id, outcomeMembers.endedAt, b, 'p', 'h'];
    if (!outBody.includes('undefined')) assert.equal(fastConsistent(outRec(outBody), outRow, newCounts()), true, `seed ${seed}: the writer's own outcome`);
    for (let at = 0; at < outBody.length; at += 1 + (seed % 5)) {
      // With the result stored only in the record, a change inside the result is the exact check's to judge.
      const inResult = outRow[C.result] === null && at >= outBody.indexOf('"result":') + 9 && at < outBody.indexOf(',"status":');
      if (inResult) continue;
      const changed = outBody.slice(0, at) + (outBody[at] === 'a' ? 'b' : 'a') + outBody.slice(at + 1);
      assert.equal(fastConsistent(outRec(changed), outRow, newCounts()), false, `seed ${seed}: outcome changed at ${at}`);
    }
  }
});
