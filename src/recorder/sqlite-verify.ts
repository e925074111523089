/**
 * Chain verification for the SQLite store: recompute every hash in seq order, then check that
 * the query tables (sessions, calls) say exactly what the records say.
 */
import type Database from 'better-sqlite3';
import { canonicalParts } from './canonical-json.js';
import { type Columns, diffColumns, intentColumns, outcomeColumns, sessionOpenColumns } from './columns.js';
import { GENESIS_HASH, recordHash } from './hash-chain.js';
import { checkpointMessage, latestCheckpoint } from './sqlite-purge.js';
import type { ChainSigner } from './signing.js';
import type { VerifyResult } from './types.js';

interface RecordRow {
  seq: number;
  kind: string;
  ref_id: string;
  ts: string;
  body: string;
  prev_hash: string;
  hash: string;
}

type Row = Record<string, unknown>;

const BATCH = 2000;
const OUTCOME_COLS = ['status', 'error_code', 'result', 'masking', 'duration_ms', 'ended_at'];

/** Why: one walk serves both the whole-chain verify and a cheap range check. */
export function verifyChain(db: Database.Database, fromSeq: number, toSeq: number, global: boolean, signer?: ChainSigner): VerifyResult {
  const page = db.prepare('SELECT * FROM records WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?');
  const sessionById = db.prepare('SELECT * FROM sessions WHERE id = ?');
  const callById = db.prepare('SELECT * FROM calls WHERE id = ?');
  const checkpointAt = hasTable(db, 'checkpoints') ? db.prepare('SELECT * FROM checkpoints WHERE record_seq = ?') : null;
  let records = 0;
  let expected = Math.max(1, fromSeq);
  let prev = GENESIS_HASH;
  // Retention removed a prefix: the walk starts after the newest cut, from the hash the checkpoint names.
  const cp = latestCheckpoint(db);
  if (cp && expected <= cp.cutSeq + 1) {
    if (fromSeq > 1 && fromSeq <= cp.cutSeq) {
      return { ok: false, records, firstBroken: { seq: fromSeq, reason: `records up to ${cp.cutSeq} were purged by retention` } };
    }
    expected = cp.cutSeq + 1;
    prev = cp.cutHash;
  } else if (expected > 1) {
    const before = db.prepare('SELECT hash FROM records WHERE seq = ?').get(expected - 1) as { hash: string } | undefined;
    if (!before) return { ok: false, records, firstBroken: { seq: expected - 1, reason: `record ${expected - 1} is missing` } };
    prev = before.hash;
  }
  const broken = (seq: number, reason: string): VerifyResult => ({ ok: false, records, firstBroken: { seq, reason } });

  for (;;) {
    const rows = page.all(expected, toSeq, BATCH) as RecordRow[];
    for (const r of rows) {
      if (r.seq !== expected) return broken(expected, `record ${expected} is missing (the next record is ${r.seq})`);
      if (r.prev_hash !== prev) return broken(r.seq, 'prev_hash does not match the previous record (reordered or replaced)');
      if (recordHash(r.prev_hash, r.kind, r.ref_id, r.ts, r.body) !== r.hash) {
        return broken(r.seq, 'hash mismatch: the record was edited');
      }
      const why = r.kind === 'checkpoint' ? checkCheckpoint(r, checkpointAt, signer) : crossCheck(r, sessionById, callById);
      if (why) return broken(r.seq, why);
      prev = r.hash;
      expected++;
      records++;
    }
    if (rows.length < BATCH) break;
  }
  const head = records > 0 ? { seq: expected - 1, hash: prev } : undefined;
  const withCp = (v: VerifyResult): VerifyResult => (cp ? { ...v, checkpoint: cp } : v);
  if (global) {
    if (checkpointAt) {
      const lost = db.prepare(
        `SELECT c.record_seq AS seq FROM checkpoints c LEFT JOIN records r ON r.seq = c.record_seq AND r.kind = 'checkpoint'
         WHERE r.seq IS NULL AND c.cut_seq = (SELECT MAX(cut_seq) FROM checkpoints) LIMIT 1`,
      ).get() as { seq: number } | undefined;
      if (lost) return withCp(broken(lost.seq, `the retention checkpoint at record ${lost.seq} has no record in the chain`));
    }
    const orphan = orphanRow(db);
    if (orphan) return { ...broken(orphan.seq, orphan.reason), ...(head ? { head } : {}) };
  }
  return withCp(head ? { ok: true, records, head } : { ok: true, records });
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** A checkpoint record must match its checkpoints row and, with a key, carry a valid signature. */
function checkCheckpoint(r: RecordRow, checkpointAt: Database.Statement | null, signer?: ChainSigner): string | null {
  let body: { cutSeq?: unknown; cutHash?: unknown; signature?: unknown };
  try {
    body = JSON.parse(r.body) as typeof body;
  } catch {
    return 'body is not valid JSON';
  }
  const row = checkpointAt?.get(r.seq) as Row | undefined;
  if (!row) return `checkpoints row for record ${r.seq} is missing`;
  if (row.cut_seq !== body.cutSeq || row.cut_hash !== body.cutHash || row.body !== r.body) {
    return `checkpoints row for record ${r.seq} differs from its record`;
  }
  if (signer && !(typeof body.signature === 'string' && signer.checkText(checkpointMessage(Number(body.cutSeq), String(body.cutHash)), body.signature))) {
    return 'the retention checkpoint is not signed by the configured key';
  }
  return null;
}

function parseBody(r: RecordRow): Map<string, string> | string {
  try {
    const v: unknown = JSON.parse(r.body);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'body is not a JSON object';
    return canonicalParts(v);
  } catch {
    return 'body is not valid JSON';
  }
}

function mismatch(table: string, id: string, cols: string[]): string {
  return `${table} row ${JSON.stringify(id)} differs from its record (${cols.join(', ')})`;
}

function crossCheck(r: RecordRow, sessionById: Database.Statement, callById: Database.Statement): string | null {
  if (r.kind === 'approval_event') return null;
  const parts = parseBody(r);
  if (typeof parts === 'string') return parts;
  switch (r.kind) {
    case 'session_open': {
      const cols = sessionOpenColumns(parts);
      if (cols.id !== r.ref_id || cols.started_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = sessionById.get(r.ref_id) as Row | undefined;
      if (!row) return `sessions row ${JSON.stringify(r.ref_id)} is missing`;
      if (row.open_seq !== r.seq) return mismatch('sessions', r.ref_id, ['open_seq']);
      const bad = diffColumns(cols, row);
      if (bad.length) return mismatch('sessions', r.ref_id, bad);
      if (row.close_seq === null && row.ended_at !== null) return mismatch('sessions', r.ref_id, ['ended_at']);
      return null;
    }
    case 'session_close': {
      const id = scalarOf(parts.get('id'));
      const endedAt = scalarOf(parts.get('endedAt'));
      if (id !== r.ref_id || endedAt !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = sessionById.get(r.ref_id) as Row | undefined;
      if (!row) return `sessions row ${JSON.stringify(r.ref_id)} is missing`;
      const bad = diffColumns({ close_seq: r.seq, ended_at: endedAt } as Columns, row);
      return bad.length ? mismatch('sessions', r.ref_id, bad) : null;
    }
    case 'call_intent': {
      const cols = intentColumns(parts);
      if (cols.id !== r.ref_id || cols.started_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = callById.get(r.ref_id) as Row | undefined;
      if (!row) return `calls row ${JSON.stringify(r.ref_id)} is missing`;
      const bad = diffColumns({ ...cols, seq: r.seq }, row);
      if (bad.length) return mismatch('calls', r.ref_id, bad);
      if (row.outcome_seq === null) {
        const set = OUTCOME_COLS.filter((c) => row[c] !== null);
        if (set.length) return mismatch('calls', r.ref_id, set);
      } else if (typeof row.outcome_seq !== 'number' || row.outcome_seq <= r.seq) {
        return mismatch('calls', r.ref_id, ['outcome_seq']);
      }
      return null;
    }
    case 'call_outcome': {
      const callId = scalarOf(parts.get('callId'));
      const cols = outcomeColumns(parts);
      if (callId !== r.ref_id || cols.ended_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = callById.get(r.ref_id) as Row | undefined;
      if (!row) return `calls row ${JSON.stringify(r.ref_id)} is missing`;
      const at = row.outcome_seq;
      if (typeof at !== 'number' || at < r.seq) return mismatch('calls', r.ref_id, ['outcome_seq']);
      if (at === r.seq) {
        const bad = diffColumns(cols, row);
        if (bad.length) return mismatch('calls', r.ref_id, bad);
      }
      return null;
    }
    default:
      return `unknown record kind ${JSON.stringify(r.kind)}`;
  }
}

function scalarOf(part: string | undefined): unknown {
  return part === undefined ? undefined : JSON.parse(part);
}

/** Rows in the query tables that no record backs (inserted, or their record deleted at the tail). */
function orphanRow(db: Database.Database): { seq: number; reason: string } | null {
  const checks: Array<[string, (row: Row) => string]> = [
    [
      `SELECT s.id, s.open_seq AS seq FROM sessions s LEFT JOIN records r
         ON r.seq = s.open_seq AND r.kind = 'session_open' AND r.ref_id = s.id WHERE r.seq IS NULL LIMIT 1`,
      (row) => `sessions row ${JSON.stringify(row.id)} has no session_open record`,
    ],
    [
      `SELECT s.id, s.close_seq AS seq FROM sessions s LEFT JOIN records r
         ON r.seq = s.close_seq AND r.kind = 'session_close' AND r.ref_id = s.id
       WHERE s.close_seq IS NOT NULL AND r.seq IS NULL LIMIT 1`,
      (row) => `sessions row ${JSON.stringify(row.id)} has no session_close record`,
    ],
    [
      `SELECT c.id, c.seq FROM calls c LEFT JOIN records r
         ON r.seq = c.seq AND r.kind = 'call_intent' AND r.ref_id = c.id WHERE r.seq IS NULL LIMIT 1`,
      (row) => `calls row ${JSON.stringify(row.id)} has no call_intent record`,
    ],
    [
      `SELECT c.id, c.outcome_seq AS seq FROM calls c LEFT JOIN records r
         ON r.seq = c.outcome_seq AND r.kind = 'call_outcome' AND r.ref_id = c.id
       WHERE c.outcome_seq IS NOT NULL AND r.seq IS NULL LIMIT 1`,
      (row) => `calls row ${JSON.stringify(row.id)} has no call_outcome record`,
    ],
    [
      `SELECT s.id, s.open_seq AS seq FROM sessions s
       WHERE s.call_count != (SELECT COUNT(*) FROM calls c WHERE c.session_id = s.id) LIMIT 1`,
      (row) => `sessions row ${JSON.stringify(row.id)} has a wrong call_count`,
    ],
  ];
  for (const [sql, reason] of checks) {
    const row = db.prepare(sql).get() as Row | undefined;
    if (row) return { seq: Number(row.seq), reason: reason(row) };
  }
  return null;
}
