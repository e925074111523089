/**
 * Red-team (transcript integrity) on PostgreSQL: records appended beyond the signed head by
 * someone with the database's rights but not the key (a plain connection, or a replica configured
 * without the private key). Every key holder signs the head in the transaction that moves it, so
 * such records were never written by a key holder. Before, the PostgreSQL store appended its own
 * records after them, left them unsigned and warned, so a reviewer saw forged calls interleaved
 * with real ones while the server wrote on. Now it does what the SQLite store does: every replica
 * refuses each write (nothing lands) with `reason: unsigned tail`, `serve` refuses to start,
 * `verify` fails at the first of them, and `adopt-head --expect-head` with the current head lets
 * writes resume. Two key-holding replicas writing at once are never refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openPgStore, type PgTranscriptStore, type TranscriptStore } from '../../src/recorder/index.js';
import { canonicalParts, joinParts } from '../../src/recorder/canonical-json.js';
import { sessionOpenColumns } from '../../src/recorder/columns.js';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { startRuntime } from '../../src/server/runtime.js';
import { WardenError } from '../../src/errors.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { intent, outcome, session } from './fixtures.js';

const keyPem = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Append a session_open record (its row, and the chain head) with a plain connection: a valid link, no key. */
async function forgeSessionOpen(url: string, id: string): Promise<{ seq: number; hash: string }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    const head = (await c.query('SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE')).rows[0] as { seq: string; hash: string };
    const parts = canonicalParts(session(id, 'mallory', '2026-05-01T11:00:00.000Z'));
    const cols = sessionOpenColumns(parts);
    const body = joinParts(parts);
    const seq = Number(head.seq) + 1;
    const hash = recordHash(head.hash, 'session_open', id, String(cols.started_at), body);
    await c.query('INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)', [seq, 'session_open', id, cols.started_at, body, head.hash, hash]);
    const keys = Object.keys(cols);
    await c.query(`INSERT INTO sessions (${keys.join(', ')}, open_seq) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}, $${keys.length + 1})`, [...keys.map((k) => cols[k]), seq]);
    await c.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [seq, hash]);
    await c.query('COMMIT');
    return { seq, hash };
  } finally {
    await c.end();
  }
}

async function run(store: TranscriptStore, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json: false, out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The refusal a key holder gives for records beyond the signed head; `verb`: write, or open for writing. */
function refusesTail(verb: string, signed: number, head: { seq: number; hash: string }): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE', e.message);
    assert.deepEqual(e.details, { reason: 'unsigned tail', signedHead: signed, head: head.seq });
    assert.match(e.message, new RegExp(`^transcript store cannot ${verb}: records ${signed + 1}-${head.seq} are newer than the signed head ${signed} and unsigned`));
    assert.ok(e.message.includes(`warden transcripts adopt-head --expect-head ${head.seq}:${head.hash}`), e.message);
    return true;
  };
}

test('PostgreSQL: a record appended with a plain connection beyond the signed head: every replica refuses each write, serve refuses to start, adopt-head --expect-head lets writes resume', async () => {
  const own = await createTestDatabase({ prefix: 'pgtail' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = keyPem();
  const dir = mkdtempSync(join(tmpdir(), 'warden-pgtail-'));
  const stores: PgTranscriptStore[] = [];
  const open = async (o: { adoptingHead?: boolean } = {}) => {
    const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), ...o });
    stores.push(s);
    return s;
  };
  try {
    // Two replicas, each holding the key, share the store.
    const a = await open();
    const b = await open();
    await a.openSession(session('s1', 'alice', '2026-05-01T10:00:00.000Z'));
    await a.recordIntent(intent('c1', 's1', 'query_database', '2026-05-01T10:00:01.000Z'));
    await b.recordOutcome('c1', outcome('2026-05-01T10:00:01.100Z'));
    await b.openSession(session('s2', 'bob', '2026-05-01T10:00:02.000Z'));
    assert.equal((await a.verify()).signedHead?.seq, 4);
    const forged = await forgeSessionOpen(own.url, 'forged');
    assert.equal(forged.seq, 5);
    // Each replica refuses each write: nothing is appended after the forged record.
    await assert.rejects(a.openSession(session('s3', 'alice', '2026-05-01T10:01:00.000Z')), refusesTail('write', 4, forged));
    await assert.rejects(b.openSession(session('s4', 'bob', '2026-05-01T10:01:00.000Z')), refusesTail('write', 4, forged));
    await assert.rejects(a.recordIntent(intent('c2', 's1', 'query_database', '2026-05-01T10:01:01.000Z')), refusesTail('write', 4, forged));
    await assert.rejects(b.closeSession('s2', '2026-05-01T10:01:02.000Z'), refusesTail('write', 4, forged));
    assert.equal(await a.headSeq(), 5, 'the refused writes appended nothing');
    assert.equal(Number((await own.query('SELECT count(*) AS n FROM records')).rows[0]!.n), 5);
    assert.equal(Number((await own.query('SELECT seq FROM signed_head')).rows[0]!.seq), 4, 'nothing signed over the forged record');
    // verify (not only --strict) fails at the first of them.
    const v = await a.verify();
    assert.equal(v.ok, false);
    assert.deepEqual([v.firstBroken?.seq, v.signedHead?.seq, v.unsignedTail], [5, 4, 1]);
    assert.match(v.firstBroken?.reason ?? '', /records 5-5 are newer than the signed head 4 and unsigned/);
    // A replica that starts now refuses to open the store for writing; so does `serve` (and its
    // startup head check, had the records come between the open and the check).
    await assert.rejects(a.checkHead(), refusesTail('open for writing', 4, forged));
    await assert.rejects(openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), recoverInterrupted: true }), refusesTail('open for writing', 4, forged));
    writeFileSync(join(dir, 'key.pem'), pem, { mode: 0o600 });
    writeFileSync(join(dir, 'store-url'), own.url, { mode: 0o600 });
    writeFileSync(join(dir, 'warden.yaml'), 'transcripts: { store: file:store-url, signing_key: file:key.pem }\nconnections: {}\npolicies: []\n');
    await assert.rejects(startRuntime(join(dir, 'warden.yaml'), []), refusesTail('open for writing', 4, forged));
    // The operator checks record 5 and names the head: adopt-head signs it.
    const adopting = await open({ adoptingHead: true });
    const bare = await run(adopting, ['adopt-head']);
    assert.equal(bare.code, 1, 'a tail is not adopted without --expect-head at the head');
    assert.match(bare.err, /--expect-head 5:/);
    assert.equal((await run(adopting, ['adopt-head', '--expect-head', `4:${'0'.repeat(64)}`])).code, 1);
    assert.equal(Number((await own.query('SELECT seq FROM signed_head')).rows[0]!.seq), 4, 'a wrong anchor signs nothing');
    const ok = await run(adopting, ['adopt-head', '--expect-head', `${forged.seq}:${forged.hash}`]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^anchor 5:[0-9a-f]{64}$/m);
    // Both running replicas write again, without a restart; a new one opens.
    await a.openSession(session('s3', 'alice', '2026-05-01T10:02:00.000Z'));
    await b.closeSession('s2', '2026-05-01T10:02:01.000Z');
    const c = await open();
    await c.recordIntent(intent('c3', 's3', 'query_database', '2026-05-01T10:02:02.000Z'));
    const after = await c.verify();
    assert.equal(after.ok, true, JSON.stringify(after.firstBroken));
    assert.deepEqual([after.head?.seq, after.signedHead?.seq, after.unsignedTail], [8, 8, 0]);
  } finally {
    for (const s of stores.reverse()) await s.close();
    await own.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: records of a replica configured without the private key are refused by a key holder, and nothing is signed over them', async () => {
  const own = await createTestDatabase({ prefix: 'pgtailpub' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = keyPem();
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem) });
  const plain = await openPgStore(own.url, { recoverEveryMs: 60_000 });
  try {
    await s.openSession(session('s1', 'alice', '2026-05-01T10:00:00.000Z'));
    await s.recordIntent(intent('c1', 's1', 'query_database', '2026-05-01T10:00:01.000Z'));
    await s.recordOutcome('c1', outcome('2026-05-01T10:00:01.100Z'));
    // A second outcome for c1 (readers would show it instead of the real one), written without the key.
    await plain.recordOutcome('c1', { ...outcome('2026-05-01T10:00:02.000Z'), status: 'error', errorCode: 'WARDEN_BACKEND', result: { note: 'nothing was read' }, masking: null });
    const head = (await s.chainHead()).head!;
    await assert.rejects(s.closeSession('s1', '2026-05-01T10:05:00.000Z'), refusesTail('write', 3, head));
    assert.equal(await s.headSeq(), 4);
    assert.equal(s.signingRefused, null, 'a refusal, not a warning with the records left unsigned');
    assert.equal((await run(s, ['verify'])).code, 1);
  } finally {
    await plain.close();
    await s.close();
    await own.drop();
  }
});

test('PostgreSQL: two key-holding replicas writing at once are never refused, and every record ends up under the signed head', async () => {
  const own = await createTestDatabase({ prefix: 'pgtailrace' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = keyPem();
  const replicas = [
    await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), poolSize: 4 }),
    await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), poolSize: 4 }),
  ];
  const starting: PgTranscriptStore[] = [];
  try {
    // Rounds of concurrent writes from both replicas: each replica group-commits its own batches,
    // and the two contend for the chain-head lock on every commit. Meanwhile replicas start (the
    // open check and serve's startup check): none mistakes the others' commits for a tail.
    for (let round = 0; round < 5; round++) {
      const writes = replicas.flatMap((r, ri) => Array.from({ length: 12 }, async (_, i) => {
        const id = `r${ri}-${round}-${i}`;
        await r.openSession(session(id, 'alice', '2026-05-01T10:00:00.000Z'));
        await r.recordIntent(intent(`${id}-c`, id, 'query_database', '2026-05-01T10:00:01.000Z'));
        await replicas[1 - ri]!.recordOutcome(`${id}-c`, outcome('2026-05-01T10:00:01.100Z'));
        await r.closeSession(id, '2026-05-01T10:00:02.000Z');
      }));
      const start = (async () => {
        const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), poolSize: 2 });
        starting.push(s);
        for (let i = 0; i < 10; i++) assert.equal(await s.checkHead(), null);
      })();
      await Promise.all([...writes, start]);
    }
    const v = await replicas[0]!.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.deepEqual([v.records, v.head?.seq, v.signedHead?.seq, v.unsignedTail], [480, 480, 480, 0]);
    assert.deepEqual(replicas.map((r) => r.signingRefused), [null, null]);
  } finally {
    for (const r of [...starting, ...replicas]) await r.close();
    await own.drop();
  }
});
