import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { canonicalJson, openSqliteStore, recordHash } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

async function run(store: SqliteTranscriptStore, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json: false, out: (s) => out.push(s), err: (s) => err.push(s), pollMs: 20 });
  return { code, out, err };
}

async function seeded(t: { after: (fn: () => void) => void }) {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  for (let i = 0; i < 30; i++) {
    const at = `2026-05-${String(1 + (i % 28)).padStart(2, '0')}T10:00:${String(i).padStart(2, '0')}.000Z`;
    await store.openSession(session(`s${i}`, i % 3 === 0 ? 'alice' : 'bob', at));
    await store.recordIntent({ ...intent(`c${i}`, `s${i}`, i % 2 ? 'ssh_run' : 'query_database', at), connection: i % 5 ? 'analytics' : 'billing',
      decision: i % 7 === 0 ? 'deny' : 'allow', factsSummary: i === 13 ? 'SELECT invoices(total) needle' : 'SELECT users(id)' });
    await store.recordOutcome(`c${i}`, outcome(at));
    await store.closeSession(`s${i}`, at.replace('10:00', '10:30'));
  }
  return store;
}

test('session search filters by principal, tool, connection, decision, time and text, and pages', async (t) => {
  const store = await seeded(t);
  const ids = async (f: Parameters<SqliteTranscriptStore['searchSessions']>[0]) => (await store.searchSessions(f)).sessions.map((s) => s.id);
  assert.equal((await ids({ subject: 'alice', limit: 100 })).length, 10);
  assert.ok((await ids({ tool: 'ssh_run', limit: 100 })).every((id) => Number(id.slice(1)) % 2 === 1));
  assert.deepEqual((await ids({ connection: 'billing', limit: 100 })).sort(), ['s0', 's10', 's15', 's20', 's25', 's5']);
  assert.deepEqual((await ids({ decision: 'deny', limit: 100 })).sort(), ['s0', 's14', 's21', 's28', 's7']);
  assert.deepEqual(await ids({ text: 'needl' }), ['s13']);
  assert.deepEqual(await ids({ text: 'invoices total' }), ['s13']);
  assert.deepEqual(await ids({ text: '") OR 1 --' }), []);
  assert.deepEqual(await ids({ since: '2026-05-28T00:00:00.000Z', until: '2026-05-29T00:00:00.000Z' }), ['s27']);
  // Keyset paging walks every session exactly once, newest first.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const p = await store.searchSessions({ limit: 7, ...(cursor ? { cursor } : {}) });
    seen.push(...p.sessions.map((s) => s.id));
    cursor = p.next ?? undefined;
  } while (cursor);
  assert.equal(seen.length, 30);
  assert.equal(new Set(seen).size, 30);
  await assert.rejects(store.searchSessions({ cursor: 'garbage!' }), /invalid page cursor/);
});

test('export round-trips: every line re-hashes to the stored chain', async (t) => {
  const store = await seeded(t);
  const r = await run(store, ['export', '--format', 'jsonl']);
  assert.equal(r.code, 0);
  const records = await store.readRecords(1, 10_000);
  assert.equal(r.out.length, records.length);
  let prev = '0'.repeat(64);
  r.out.forEach((line, i) => {
    const o = JSON.parse(line);
    const rec = records[i]!;
    assert.deepEqual([o.v, o.seq, o.kind, o.ref_id, o.ts, o.prev_hash, o.hash], [1, rec.seq, rec.kind, rec.refId, rec.ts, rec.prevHash, rec.hash]);
    assert.equal(canonicalJson(o.body), rec.body);
    assert.equal(o.prev_hash, prev);
    assert.equal(recordHash(o.prev_hash, o.kind, o.ref_id, o.ts, canonicalJson(o.body)), o.hash);
    prev = o.hash;
  });
  const window = await run(store, ['export', '--since', '2026-05-28', '--until', '2026-05-29']);
  const kinds = window.out.map((l) => JSON.parse(l)).map((o) => `${o.kind}:${o.ref_id}`);
  assert.deepEqual(kinds, ['session_open:s27', 'call_intent:c27', 'call_outcome:c27', 'session_close:s27']);
  assert.equal((await run(store, ['export', '--since', 'yesterday'])).code, 2);
});

test('replay prints the timeline; --follow waits for the session to close', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('live'));
  await store.recordIntent(intent('c1', 'live'));
  const pending = run(store, ['replay', 'live', '--follow']);
  await new Promise((r) => setTimeout(r, 60));
  await store.recordOutcome('c1', outcome());
  await store.closeSession('live', '2026-11-27T10:05:00.000Z');
  const r = await pending;
  assert.equal(r.code, 0);
  assert.equal(r.out.length, 4);
  assert.match(r.out[0]!, /10:00:00\.000\s+alice\s+session opened \(claude-code 2\.0\.1 over stdio\)/);
  assert.match(r.out[1]!, /-> query_database @analytics\s+SELECT users\(id, email\)\s+\[allow: analysts-read\]/);
  assert.match(r.out[2]!, /<- query_database ok in 120ms\s+\{"columns":\["id","email"\],"rows":\[\[1,"\*\*\*"\]/);
  assert.match(r.out[3]!, /session closed/);
  assert.equal((await run(store, ['replay', 'nope'])).code, 1);
  // --json: one JSON document (not JSON Lines), the session's records in chain order.
  const j = await run(store, ['replay', 'live', '--json']);
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.out.join('\n')) as { session_id: string; subject: string; records: { kind: string; seq: number }[] };
  assert.equal(doc.session_id, 'live');
  assert.deepEqual(doc.records.map((x) => x.kind), ['session_open', 'call_intent', 'call_outcome', 'session_close']);
  assert.equal((await run(store, ['replay', 'live', '--json', '--follow'])).code, 2);
});

test('verify --from/--to and purge --before from the command line', async (t) => {
  const store = await seeded(t);
  const range = await run(store, ['verify', '--from', '5', '--to', '9']);
  assert.equal(range.code, 0);
  assert.match(range.out.join(''), /intact: 5 records/);
  assert.equal((await run(store, ['verify', '--from', 'x'])).code, 2);
  const p = await run(store, ['purge', '--before', '2026-05-10T00:00:00Z']);
  assert.equal(p.code, 0);
  assert.match(p.out.join(''), /purged \d+ sessions/);
  const v = await run(store, ['verify']);
  assert.equal(v.code, 0, v.err.join(''));
  assert.match(v.out.join(''), /retention checkpoint/);
  assert.equal((await run(store, ['purge'])).code, 2);
});
