/**
 * The exact per-record checks of verify (the reference semantics): parse a record body, derive the
 * columns it implies and compare them with its sessions/calls row; plus the table-wide orphan
 * checks. The fast path (verify-fast.ts) only ever accepts what these would accept; whenever it
 * is not sure it asks these for the verdict and the precise reason.
 */
import type Database from 'better-sqlite3';
import { canonicalParts } from './canonical-json.js';
import { type Columns, diffColumns, intentColumns, outcomeColumns, sessionOpenColumns } from './columns.js';
import { checkpointMismatch } from './checkpoint.js';
import type { ChainSigner } from './signing.js';

/** A row of `records`; why: the exact checks and the walk share one shape. */
export interface RecordRow {
  seq: number;
  kind: string;
  ref_id: string;
  ts: string;
  body: string;
  prev_hash: string;
  hash: string;
}

type Row = Record<string, unknown>;

const OUTCOME_COLS = ['status', 'error_code', 'result', 'masking', 'duration_ms', 'ended_at'];

/** A checkpoint record must match its checkpoints row and, with a key, carry a valid signature. */
export function checkCheckpoint(r: RecordRow, checkpointAt: Database.Statement | null, signer?: ChainSigner): string | null {
  return checkpointMismatch(r.seq, r.body, checkpointAt?.get(r.seq) as Row | undefined, signer);
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

/** Why: the exact verdict (and reason) for one record against its sessions/calls row. */
export function crossCheck(r: RecordRow, sessionById: Database.Statement, callById: Database.Statement): string | null {
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
        // A NULL calls.result: the result lives only in this (hash-checked) record; readers take it from here.
        const bad = diffColumns(row.result === null ? { ...cols, result: null } : cols, row);
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

/**
 * Rows in the query tables that no record backs (inserted, or their record deleted at the tail).
 * `linksProven`: the walk matched as many rows as the tables hold, so only call_count is left to check.
 */
export function orphanRow(db: Database.Database, linksProven = false): { seq: number; reason: string } | null {
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
  for (const [sql, reason] of linksProven ? checks.slice(4) : checks) {
    const row = db.prepare(sql).get() as Row | undefined;
    if (row) return { seq: Number(row.seq), reason: reason(row) };
  }
  return null;
}
