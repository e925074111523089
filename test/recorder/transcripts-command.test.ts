import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runTranscriptsCommand, SHOW_PAGE } from '../../src/cli/transcripts-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

async function run(store: SqliteTranscriptStore, args: string[], json = false): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json, out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

async function seeded(t: { after: (fn: () => void) => void }): Promise<SqliteTranscriptStore> {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('s1', 'alice', '2026-11-27T09:00:00.000Z'));
  await store.openSession(session('s2', 'bob', '2026-11-27T10:00:00.000Z'));
  await store.recordIntent(intent('c1', 's1', 'query_database', '2026-11-27T09:00:01.000Z'));
  await store.recordOutcome('c1', outcome('2026-11-27T09:00:01.120Z'));
  await store.recordIntent({ ...intent('c2', 's1', 'ssh_run', '2026-11-27T09:00:02.000Z'), decision: 'deny', factsSummary: 'rm -rf /\u001b[2J' });
  await store.recordOutcome('c2', { ...outcome('2026-11-27T09:00:02.001Z'), status: 'denied', errorCode: 'WARDEN_DENIED', result: null, durationMs: 1 });
  await store.closeSession('s1', '2026-11-27T09:10:00.000Z');
  return store;
}

test('list --json prints one array, filters apply', async (t) => {
  const store = await seeded(t);
  const all = await run(store, ['list'], true);
  assert.equal(all.code, 0);
  assert.equal(all.out.length, 1);
  const sessions = JSON.parse(all.out[0] ?? '') as Array<{ id: string; callCount: number }>;
  assert.deepEqual(sessions.map((s) => s.id), ['s2', 's1']);
  const filtered = JSON.parse((await run(store, ['list', '--subject', 'alice', '--tool=ssh_run', '--limit', '5', '--json'])).out[0] ?? '');
  assert.deepEqual(filtered.map((s: { id: string }) => s.id), ['s1']);
  assert.equal((await run(store, ['list', '--limit', 'zero'])).code, 2);
  assert.equal((await run(store, ['list', '--bogus', 'x'])).code, 2);
});

test('list without --json prints a readable table', async (t) => {
  const store = await seeded(t);
  const r = await run(store, ['list']);
  assert.equal(r.code, 0);
  const text = r.out.join('\n');
  assert.match(text, /^STARTED\s+SESSION\s+PRINCIPAL/);
  assert.match(text, /s1\s+alice\s+stdio\s+claude-code 2\.0\.1\s+2\s+2026-11-27T09:10:00\.000Z \(10m00s\)/);
  assert.match(text, /s2\s+bob .*open/);
});

test('show --json prints the session and its calls with outcomes', async (t) => {
  const store = await seeded(t);
  const r = await run(store, ['show', 's1'], true);
  assert.equal(r.code, 0);
  assert.equal(r.out.length, 1);
  const doc = JSON.parse(r.out[0] ?? '');
  assert.equal(doc.session.id, 's1');
  assert.deepEqual(doc.calls.map((c: { id: string }) => c.id), ['c1', 'c2']);
  assert.equal(doc.calls[1].outcome.errorCode, 'WARDEN_DENIED');
  const missing = await run(store, ['show', 'nope'], true);
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.out, []);
  assert.match(missing.err.join(''), /no session "nope"/);
});

test('show prints a timeline, escaping control characters', async (t) => {
  const store = await seeded(t);
  const text = (await run(store, ['show', 's1'])).out.join('\n');
  assert.match(text, /principal\s+alice \(oidc; groups: agents, dba\)/);
  assert.match(text, /09:00:01\.000\s+alice\s+query_database\s+analytics\s+allow\s+analysts-read\s+ok\s+120ms\s+SELECT users\(id, email\)/);
  assert.match(text, /ssh_run .* deny .* denied WARDEN_DENIED\s+1ms\s+rm -rf \/\\u\{1b\}\[2J/);
  assert.doesNotMatch(text, /\u001b/);
});

test('verify exits 0 when intact and 1 with the first broken record otherwise', async (t) => {
  const store = await seeded(t);
  const ok = await run(store, ['verify'], true);
  assert.equal(ok.code, 0);
  const doc = JSON.parse(ok.out[0] ?? '');
  assert.deepEqual([doc.ok, doc.records], [true, 7]);
  assert.match((await run(store, ['verify'])).out.join(''), /intact: 7 records/);

  const evil = new Database(store.path);
  t.after(() => evil.close());
  evil.prepare(`UPDATE calls SET result = 'null' WHERE id = 'c1'`).run();
  const bad = await run(store, ['verify'], true);
  assert.equal(bad.code, 1);
  assert.equal(bad.out.length, 1);
  const badDoc = JSON.parse(bad.out[0] ?? '');
  assert.equal(badDoc.ok, false);
  assert.equal(badDoc.firstBroken.seq, 4);
  assert.match(bad.err.join(''), /broken at record 4: calls row "c1" differs/);
  const human = await run(store, ['verify']);
  assert.equal(human.code, 1);
  assert.deepEqual(human.out, []);
});

test('verify exits 1 naming the record and column whose stored bytes are not valid UTF-8', async (t) => {
  const store = await seeded(t);
  const evil = new Database(store.path);
  t.after(() => evil.close());
  evil.exec('DROP TRIGGER records_append_only_update');
  // C3 A9 is "é"; C3 alone (then a quote) is invalid and reads as U+FFFD.
  const hex = (evil.prepare('SELECT hex(body) AS h FROM records WHERE seq = 4').get() as { h: string }).h;
  evil.exec(`UPDATE records SET body = CAST(X'${hex.replace('2A2A2A', '2AC32A')}' AS TEXT) WHERE seq = 4`);
  const bad = await run(store, ['verify'], true);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.out[0] ?? '').firstBroken.seq, 4);
  assert.match(bad.err.join(''), /broken at record 4: record 4's body is not valid UTF-8/);
  const human = await run(store, ['verify']);
  assert.equal(human.code, 1);
  assert.match(human.err.join(''), /record 4's body is not valid UTF-8/);
});

test('export writes one JSON object per record; unknown subcommands are usage errors', async (t) => {
  const store = await seeded(t);
  const r = await run(store, ['export', '--format', 'jsonl']);
  assert.equal(r.code, 0);
  const lines = r.out.map((l) => JSON.parse(l));
  assert.equal(lines.length, 7);
  assert.equal(lines[2].kind, 'call_intent');
  assert.deepEqual(lines[2].body.args, intent('c1', 's1').args);
  assert.equal((await run(store, ['frobnicate'])).code, 2);
  assert.equal((await run(store, [])).code, 2);
});

test('replay shows an outcome recorded after its session closed (a client that left mid-call)', async (t) => {
  const store = await seeded(t);
  await store.recordIntent(intent('c3', 's2', 'query_database', '2026-11-27T10:00:01.000Z'));
  await store.closeSession('s2', '2026-11-27T10:00:02.000Z');
  await store.recordOutcome('c3', outcome('2026-11-27T10:00:03.000Z'));
  const human = await run(store, ['replay', 's2']);
  assert.equal(human.code, 0);
  assert.match(human.out.at(-1) ?? '', /<- query_database ok/);
  const doc = JSON.parse((await run(store, ['replay', 's2', '--json'])).out[0] ?? '') as { records: Array<{ kind: string }> };
  assert.deepEqual(doc.records.map((r) => r.kind), ['session_open', 'call_intent', 'session_close', 'call_outcome']);
});

test("show reads a long session's calls in bounded pages (never all at once), human and --json alike", async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('long'));
  const n = 2 * SHOW_PAGE + 1;
  for (let i = 0; i < n; i++) await store.recordIntent({ ...intent(`c${i}`, 'long'), factsSummary: i === n - 1 ? 'SELECT * FROM u\u0455ers' : `SELECT ${i}` });
  // Every read's count of calls, through the store the command is given.
  const reads: number[] = [];
  const counted = new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      return async (...a: unknown[]) => {
        const r = (await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a)) as { calls?: unknown[] } | unknown[] | null;
        if (Array.isArray(r)) reads.push(r.length);
        else if (r && Array.isArray(r.calls)) reads.push(r.calls.length);
        return r;
      };
    },
  });
  const human = await run(counted, ['show', 'long']);
  assert.equal(human.code, 0);
  const text = human.out.join('\n');
  assert.equal(text.split('\n').filter((l) => /\bquery_database\b/.test(l)).length, n);
  assert.match(text, /^warning +⚠ look-alike letters.*"u\u0455ers"/mu, 'a look-alike word in a later page is still flagged');
  const json = await run(counted, ['show', 'long'], true);
  assert.equal(json.code, 0);
  const doc = JSON.parse(json.out.join('\n')) as { session: { id: string }; calls: Array<{ id: string }> };
  assert.equal(doc.session.id, 'long');
  assert.deepEqual(doc.calls.map((c) => c.id), Array.from({ length: n }, (_, i) => `c${i}`));
  assert.ok(reads.length > 0 && Math.max(...reads) <= SHOW_PAGE, `reads of ${Math.max(...reads)} calls (page ${SHOW_PAGE})`);
});
