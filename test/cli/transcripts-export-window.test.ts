/**
 * `warden transcripts export --since/--until` and `verify --file`: records are chosen by time but
 * chained by seq, and a record's time is its writer's clock (a reviewer's `decision`, a replica's
 * record), so times are not in seq order. Before, a window dropped every record whose own time
 * fell outside it, also between two it kept, and the export of an honest store failed
 * `verify --file` (`record N is missing`). Now the window runs from the first to the last record
 * whose time falls in it, with every record between; a record removed from it still fails.
 * Both stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore, type PgTranscriptStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';

type TranscriptStore = SqliteTranscriptStore | PgTranscriptStore;
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { approvalRequest, session, tempDir } from '../recorder/fixtures.js';
import { pgStoreSuite } from '../recorder/pg-store-suite.js';

const pg = pgStoreSuite('pgexportwindow');
const ok = () => undefined;

/** A request at 10:00 (after a session opened at 09:00), decided by a reviewer whose clock is 2 s behind, then used at 10:01. */
async function seed(store: TranscriptStore): Promise<void> {
  await store.openSession({ ...session('s1'), startedAt: '2026-03-01T09:00:00.000Z' });
  await store.approvals.create(approvalRequest('w1', '2026-03-01T10:00:00.000Z', { expiresAt: '2099-01-01T00:00:00.000Z' }));
  await store.approvals.decide('w1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-03-01T09:59:58.000Z' }, ok);
  assert.equal(await store.approvals.consume('w1', 'call-w1', '2026-03-01T10:01:00.000Z'), true);
}

async function cli(store: TranscriptStore, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json: false, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function check(t: { after: (fn: () => void) => void }, store: TranscriptStore): Promise<void> {
  const dir = tempDir(t);
  const ex = await cli(store, 'export', '--since', '2026-03-01T10:00:00.000Z');
  assert.equal(ex.code, 0, ex.err.join('\n'));
  const lines = ex.out.join('\n').split('\n').filter(Boolean);
  const seqs = lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), `consecutive: ${seqs.join(',')}`);
  const file = join(dir, 'window.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  // Without a signing key the window carries no signed statement of its start: verify fails closed
  // unless the record it starts after is named (the head of the export before).
  const bare = await cli(store, 'verify', '--file', file);
  assert.equal(bare.code, 1);
  assert.match(bare.err.join('\n'), /which nothing ties it to/);
  const before = (await cli(store, 'export')).out.map((l) => JSON.parse(l) as { seq: number; hash: string }).find((r) => r.seq === seqs[0]! - 1)!;
  const v = await cli(store, 'verify', '--file', file, '--expect-head', `${before.seq}:${before.hash}`);
  assert.equal(v.code, 0, v.err.join('\n'));
  assert.match(v.out.join('\n'), /transcript export intact/);
  // A record removed from the middle of the window still fails.
  const cut = join(dir, 'cut.jsonl');
  writeFileSync(cut, lines.filter((_, i) => i !== 1).join('\n') + '\n');
  const c = await cli(store, 'verify', '--file', cut);
  assert.equal(c.code, 1);
  assert.match(c.err.join('\n'), new RegExp(`record ${seqs[1]} is missing`));
}

test('export --since of a store whose records are not in time order verifies with verify --file (SQLite)', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await seed(store);
  await check(t, store);
});

test('export --since of a store whose records are not in time order verifies with verify --file (PostgreSQL)', async (t) => {
  const store = await pg.open();
  await seed(store);
  await check(t, store);
});
