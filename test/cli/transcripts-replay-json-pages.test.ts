/**
 * Red team: `warden transcripts replay SESSION --json` gathered every record of the session (each
 * call's intent and outcome, results up to max_result_bytes) in memory and then built one string
 * of them, indented (a result's cells each on a line of its own). An agent whose session held a
 * few hundred 1 MiB results made that string pass V8's longest (about 512 MiB: `RangeError:
 * Invalid string length`) or the CLI's heap, so the reviewer got no JSON replay of that session at
 * all. The document is now written a page of records at a time (REPLAY_PAGE), the same bytes as
 * before; a session of one page prints as one piece, as it always did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand, REPLAY_PAGE } from '../../src/cli/transcripts-command.js';
import { jsonDoc } from '../../src/cli/terminal-out.js';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from '../recorder/fixtures.js';

async function replayJson(store: SqliteTranscriptStore, id: string): Promise<{ out: string[]; reads: number[] }> {
  const reads: number[] = [];
  // Every read's count of records, through the store the command is given.
  const counted = new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return async (...a: unknown[]) => {
        const r = (await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a)) as unknown;
        if (Array.isArray(r)) reads.push(r.length);
        return r;
      };
    },
  });
  const out: string[] = [];
  const code = await runTranscriptsCommand(['replay', id], { store: counted, json: true, out: (s) => out.push(s), err: () => undefined });
  assert.equal(code, 0);
  return { out, reads };
}

test('replay --json of a long session is written a page at a time, the same document as before', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('long', 'agent-x'));
  const calls = REPLAY_PAGE + 30;
  for (let i = 0; i < calls; i++) {
    await store.recordIntent({ ...intent(`c${i}`, 'long'), factsSummary: `SELECT ${i} /* \u05d0 */` });
    await store.recordOutcome(`c${i}`, { ...outcome(), result: { rows: [['x'.repeat(2000)]] } });
  }
  await store.closeSession('long', '2026-11-27T11:00:00.000Z');
  const { out, reads } = await replayJson(store, 'long');
  const text = out.join('\n') + '\n';
  const doc = JSON.parse(text) as { session_id: string; subject: string; records: Array<{ seq: number; kind: string }> };
  assert.equal(doc.session_id, 'long');
  assert.equal(doc.records.length, 2 * calls + 2);
  // Byte for byte the document the old code printed in one piece.
  assert.equal(text, jsonDoc({ session_id: 'long', subject: 'agent-x', records: doc.records }, 2) + '\n');
  const longest = Math.max(...out.map((s) => s.length));
  assert.ok(longest < text.length / 4, `no piece holds the session: the longest is ${longest} of ${text.length} characters`);
  assert.ok(Math.max(...reads) <= REPLAY_PAGE, `reads of at most a page (${Math.max(...reads)})`);
});

test('replay --json of a short session is one piece, as before', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('short', 'agent-y'));
  await store.recordIntent(intent('c1', 'short'));
  await store.recordOutcome('c1', outcome());
  const { out } = await replayJson(store, 'short');
  assert.equal(out.length, 1);
  const doc = JSON.parse(out[0]!) as { records: unknown[] };
  assert.equal(doc.records.length, 3);
  assert.equal(out[0], jsonDoc({ session_id: 'short', subject: 'agent-y', records: doc.records }, 2));
  // An empty session too.
  await store.openSession(session('empty', 'agent-z'));
  const empty = await replayJson(store, 'empty');
  assert.equal(empty.out.length, 1);
  assert.equal((JSON.parse(empty.out[0]!) as { records: unknown[] }).records.length, 1, 'the open record alone');
});
