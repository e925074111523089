import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { CallIntent } from '../../src/recorder/types.js';
import { fastConsistent, newCounts, type RawRow } from '../../src/recorder/verify-fast.js';
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
