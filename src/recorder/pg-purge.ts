/**
 * Retention for the PostgreSQL store, as for SQLite (sqlite-purge.ts): remove a prefix of the
 * chain made of whole sessions that ended before a date, and append a checkpoint record naming
 * the cut (seq and hash of the last removed record), signed when a key is configured. It runs as
 * one write of the store's writer, so it holds the chain-head lock: no replica appends meanwhile.
 */
import { checkpointBody } from './checkpoint.js';
import { cutNumber, findCutAsync } from './retention-cut.js';
import type { PgTx } from './pg-writer.js';
import type { ChainSigner } from './signing.js';
import type { PurgeResult } from './types.js';

async function one<T>(tx: PgTx, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await tx.q(sql, params)).rows[0] as T | undefined;
}

function findCut(tx: PgTx, before: string): Promise<number> {
  return findCutAsync(before, async (q) => cutNumber(Object.values((await tx.q(q.sql, q.params)).rows[0] ?? {})[0]));
}

/** Purge inside the writer's transaction; why: the cut and its checkpoint land together. */
export async function pgPurgeBefore(tx: PgTx, before: string, now: string, signer?: ChainSigner): Promise<PurgeResult> {
  const first = (await one<{ s: number | null }>(tx, 'SELECT MIN(seq) AS s FROM records'))?.s ?? null;
  const cut = await findCut(tx, before);
  if (first === null || cut < Number(first)) return { cutSeq: 0, records: 0, sessions: 0, calls: 0 };
  const cutHash = String((await one<{ hash: string }>(tx, 'SELECT hash FROM records WHERE seq = $1', [cut]))!.hash);
  const calls = (await tx.q('DELETE FROM calls WHERE session_id IN (SELECT id FROM sessions WHERE open_seq <= $1)', [cut])).rowCount ?? 0;
  const sessions = (await tx.q('DELETE FROM sessions WHERE open_seq <= $1', [cut])).rowCount ?? 0;
  // Settled approvals requested before the cut leave with their records (live ones hold the cut).
  await tx.q('DELETE FROM approval_decisions WHERE approval_id IN (SELECT id FROM approvals WHERE seq <= $1)', [cut]);
  await tx.q('DELETE FROM approvals WHERE seq <= $1', [cut]);
  // The append-only guard steps aside for this one transaction (DDL is transactional here).
  await tx.q('ALTER TABLE records DISABLE TRIGGER records_append_only');
  const records = (await tx.q('DELETE FROM records WHERE seq <= $1', [cut])).rowCount ?? 0;
  await tx.q('ALTER TABLE records ENABLE TRIGGER records_append_only');
  const text = checkpointBody(cut, cutHash, before, now, { records, sessions, calls }, signer);
  const checkpointSeq = await tx.append('checkpoint', `checkpoint-${cut}`, now, text);
  await tx.q('INSERT INTO checkpoints (record_seq, cut_seq, cut_hash, body) VALUES ($1, $2, $3, $4)', [checkpointSeq, cut, cutHash, text]);
  return { cutSeq: cut, records, sessions, calls, checkpointSeq };
}

/** The checkpoint the chain now starts from (the highest cut), if any. */
export async function pgLatestCheckpoint(q: (sql: string) => Promise<{ rows: unknown[] }>): Promise<{ recordSeq: number; cutSeq: number; cutHash: string } | null> {
  const r = (await q('SELECT record_seq, cut_seq, cut_hash FROM checkpoints ORDER BY cut_seq DESC LIMIT 1')).rows[0] as
    | { record_seq: number; cut_seq: number; cut_hash: string }
    | undefined;
  return r ? { recordSeq: Number(r.record_seq), cutSeq: Number(r.cut_seq), cutHash: String(r.cut_hash) } : null;
}
