/**
 * Chain verification for the PostgreSQL store, on one consistent snapshot (REPEATABLE READ):
 * recompute every hash in seq order, check that the chain head row names the last record, and
 * that the sessions/calls rows say exactly what their records say (as the SQLite verify does).
 * No UTF-8 check of the stored bytes (verify-utf8.ts does one for SQLite): a UTF8 database refuses
 * invalid UTF-8 in text columns, so what is read is what is stored (a SQL_ASCII one would not).
 */
import type pg from 'pg';
import { canonicalParts } from './canonical-json.js';
import { type Columns, diffColumns, intentColumns, outcomeColumns, sessionOpenColumns } from './columns.js';
import { GENESIS_HASH, recordHash } from './hash-chain.js';
import type { ChainHeadInfo, VerifyOptions, VerifyResult } from './types.js';
import { type ApprovalEventRecord, compareApprovals } from './verify-approvals.js';
import { pgLatestCheckpoint } from './pg-purge.js';
import { belowCut, checkpointMismatch } from './checkpoint.js';
import { type ChainSigner, chainHeadInfo, compareSignedHead } from './signing.js';
import { readPgSignedHead } from './pg-signed-head.js';
import { anchorMismatch, unsignedTailBreak, withHeadChecks } from './verify-anchors.js';
import { pgSchemaMismatch } from './pg-verify-schema.js';

type Row = Record<string, unknown>;
type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

const BATCH = 2000;
const OUTCOME_COLS = ['status', 'error_code', 'result', 'masking', 'duration_ms', 'ended_at'];

function scalarOf(part: string | undefined): unknown {
  return part === undefined ? undefined : JSON.parse(part);
}

function mismatch(table: string, id: string, cols: string[]): string {
  return `${table} row ${JSON.stringify(id)} differs from its record (${cols.join(', ')})`;
}

function crossCheck(r: Row, sessions: Map<string, Row>, calls: Map<string, Row>, checkpoints: Map<number, Row>, signer?: ChainSigner): string | null {
  if (r.kind === 'approval_event') return null;
  if (r.kind === 'checkpoint') return checkpointMismatch(Number(r.seq), String(r.body), checkpoints.get(Number(r.seq)), signer);
  let parts: Map<string, string>;
  try {
    const v: unknown = JSON.parse(String(r.body));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'body is not a JSON object';
    parts = canonicalParts(v);
  } catch {
    return 'body is not valid JSON';
  }
  const ref = String(r.ref_id);
  const seq = Number(r.seq);
  switch (r.kind) {
    case 'session_open': {
      const cols = sessionOpenColumns(parts);
      if (cols.id !== ref || cols.started_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = sessions.get(ref);
      if (!row) return `sessions row ${JSON.stringify(ref)} is missing`;
      if (row.open_seq !== seq) return mismatch('sessions', ref, ['open_seq']);
      const bad = diffColumns(cols, row);
      if (bad.length) return mismatch('sessions', ref, bad);
      if (row.close_seq === null && row.ended_at !== null) return mismatch('sessions', ref, ['ended_at']);
      return null;
    }
    case 'session_close': {
      const endedAt = scalarOf(parts.get('endedAt'));
      if (scalarOf(parts.get('id')) !== ref || endedAt !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = sessions.get(ref);
      if (!row) return `sessions row ${JSON.stringify(ref)} is missing`;
      const bad = diffColumns({ close_seq: seq, ended_at: endedAt } as Columns, row);
      return bad.length ? mismatch('sessions', ref, bad) : null;
    }
    case 'call_intent': {
      const cols = intentColumns(parts);
      if (cols.id !== ref || cols.started_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = calls.get(ref);
      if (!row) return `calls row ${JSON.stringify(ref)} is missing`;
      const bad = diffColumns({ ...cols, seq }, row);
      if (bad.length) return mismatch('calls', ref, bad);
      if (row.outcome_seq === null) {
        const set = OUTCOME_COLS.filter((c) => row[c] !== null);
        if (set.length) return mismatch('calls', ref, set);
      } else if (typeof row.outcome_seq !== 'number' || row.outcome_seq <= seq) return mismatch('calls', ref, ['outcome_seq']);
      return null;
    }
    case 'call_outcome': {
      const cols = outcomeColumns(parts);
      if (scalarOf(parts.get('callId')) !== ref || cols.ended_at !== r.ts) return 'ref_id or ts disagrees with the body';
      const row = calls.get(ref);
      if (!row) return `calls row ${JSON.stringify(ref)} is missing`;
      const at = row.outcome_seq;
      if (typeof at !== 'number' || at < seq) return mismatch('calls', ref, ['outcome_seq']);
      if (at === seq) {
        const bad = diffColumns(cols, row);
        if (bad.length) return mismatch('calls', ref, bad);
      }
      return null;
    }
    default:
      return `unknown record kind ${JSON.stringify(r.kind)}`;
  }
}

const ORPHANS: Array<[string, (row: Row) => string]> = [
  [`SELECT s.id, s.open_seq AS seq FROM sessions s LEFT JOIN records r ON r.seq = s.open_seq AND r.kind = 'session_open' AND r.ref_id = s.id WHERE r.seq IS NULL LIMIT 1`,
    (row) => `sessions row ${JSON.stringify(row.id)} has no session_open record`],
  [`SELECT s.id, s.close_seq AS seq FROM sessions s LEFT JOIN records r ON r.seq = s.close_seq AND r.kind = 'session_close' AND r.ref_id = s.id
    WHERE s.close_seq IS NOT NULL AND r.seq IS NULL LIMIT 1`, (row) => `sessions row ${JSON.stringify(row.id)} has no session_close record`],
  [`SELECT c.id, c.seq FROM calls c LEFT JOIN records r ON r.seq = c.seq AND r.kind = 'call_intent' AND r.ref_id = c.id WHERE r.seq IS NULL LIMIT 1`,
    (row) => `calls row ${JSON.stringify(row.id)} has no call_intent record`],
  [`SELECT c.id, c.outcome_seq AS seq FROM calls c LEFT JOIN records r ON r.seq = c.outcome_seq AND r.kind = 'call_outcome' AND r.ref_id = c.id
    WHERE c.outcome_seq IS NOT NULL AND r.seq IS NULL LIMIT 1`, (row) => `calls row ${JSON.stringify(row.id)} has no call_outcome record`],
  [`SELECT s.id, s.open_seq AS seq FROM sessions s WHERE s.call_count != (SELECT COUNT(*) FROM calls c WHERE c.session_id = s.id) LIMIT 1`,
    (row) => `sessions row ${JSON.stringify(row.id)} has a wrong call_count`],
];

/**
 * Walk records fromSeq..toSeq; `global` adds the head-row and orphan-row checks, and the schema's
 * against `owner` and `trusted` (transcripts.owner, transcripts.trusted_roles). Run inside a snapshot.
 */
export async function pgVerifyChain(q: Q, fromSeq: number, toSeq: number, global: boolean, signer?: ChainSigner, owner?: string, trusted: readonly string[] = []): Promise<VerifyResult> {
  let records = 0;
  let expected = Math.max(1, fromSeq);
  let prev = GENESIS_HASH;
  const broken = (seq: number, reason: string): VerifyResult => ({ ok: false, records, firstBroken: { seq, reason } });
  // Retention removed a prefix: the walk starts after the newest cut, from the hash the checkpoint names.
  const cp = await pgLatestCheckpoint((sql) => q(sql));
  const start = expected;
  if (cp && expected <= cp.cutSeq + 1) {
    if (fromSeq > 1 && fromSeq <= cp.cutSeq) return broken(fromSeq, `records up to ${cp.cutSeq} were purged by retention`);
    // Nothing may sit at or below the cut: verify does not walk there (same rule as SQLite).
    const below = (await q('SELECT MIN(seq) AS s FROM records WHERE seq <= $1', [cp.cutSeq])).rows[0] as { s: string | number | null } | undefined;
    if (below?.s !== null && below?.s !== undefined) {
      const seq = Number(below.s);
      return broken(seq, belowCut(`record ${seq}`, cp.cutSeq));
    }
    expected = cp.cutSeq + 1;
    prev = cp.cutHash;
  } else if (expected > 1) {
    const before = (await q('SELECT hash FROM records WHERE seq = $1', [expected - 1])).rows[0] as { hash: string } | undefined;
    if (!before) return broken(expected - 1, `record ${expected - 1} is missing`);
    prev = before.hash;
  }
  // A whole-chain verify collects the approval events on its way, to replay the approval tables.
  const approvalEvents: ApprovalEventRecord[] | null = global && start === 1 ? [] : null;
  for (;;) {
    const rows = (await q('SELECT * FROM records WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3', [expected, toSeq, BATCH])).rows as Row[];
    const refs = [...new Set(rows.map((r) => String(r.ref_id)))];
    const sessions = new Map(((await q('SELECT * FROM sessions WHERE id = ANY($1)', [refs])).rows as Row[]).map((r) => [String(r.id), r]));
    const calls = new Map(((await q('SELECT * FROM calls WHERE id = ANY($1)', [refs])).rows as Row[]).map((r) => [String(r.id), r]));
    const cpSeqs = rows.filter((r) => r.kind === 'checkpoint').map((r) => Number(r.seq));
    const checkpoints = new Map(
      cpSeqs.length ? ((await q('SELECT * FROM checkpoints WHERE record_seq = ANY($1)', [cpSeqs])).rows as Row[]).map((r) => [Number(r.record_seq), r]) : [],
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expected) return broken(expected, `record ${expected} is missing (the next record is ${seq})`);
      if (r.prev_hash !== prev) return broken(seq, 'prev_hash does not match the previous record (reordered or replaced)');
      if (recordHash(String(r.prev_hash), String(r.kind), String(r.ref_id), String(r.ts), String(r.body)) !== r.hash) return broken(seq, 'hash mismatch: the record was edited');
      const why = crossCheck(r, sessions, calls, checkpoints, signer);
      if (why) return broken(seq, why);
      if (approvalEvents && r.kind === 'approval_event') approvalEvents.push({ seq, ref_id: String(r.ref_id), ts: String(r.ts), body: String(r.body) });
      prev = String(r.hash);
      expected++;
      records++;
    }
    if (rows.length < BATCH) break;
  }
  const head = records > 0 ? { seq: expected - 1, hash: prev } : undefined;
  if (global) {
    // The tables read below (and by every reader) must be the store's own (pg-verify-schema.ts).
    const schema = await pgSchemaMismatch(q, owner, trusted);
    if (schema) return { ...broken(schema.seq, schema.reason), ...(head ? { head } : {}) };
    const h = (await q('SELECT seq, hash FROM chain_head WHERE id = 1')).rows[0] as { seq: number; hash: string } | undefined;
    const last = head ?? { seq: 0, hash: GENESIS_HASH };
    if (!h || Number(h.seq) !== last.seq || h.hash !== last.hash) {
      return { ...broken(Number(h?.seq ?? 0), `the chain head row (${h?.seq ?? 'missing'}) does not name the last record (${last.seq}): records were removed at the tail`), ...(head ? { head } : {}) };
    }
    const lost = (await q(`SELECT c.record_seq AS seq FROM checkpoints c LEFT JOIN records r ON r.seq = c.record_seq AND r.kind = 'checkpoint'
      WHERE r.seq IS NULL AND c.cut_seq = (SELECT MAX(cut_seq) FROM checkpoints) LIMIT 1`)).rows[0] as { seq: number } | undefined;
    if (lost) return { ...broken(Number(lost.seq), `the retention checkpoint at record ${lost.seq} has no record in the chain`), ...(head ? { head } : {}) };
    for (const [sql, reason] of ORPHANS) {
      const row = (await q(sql)).rows[0] as Row | undefined;
      if (row) return { ...broken(Number(row.seq), reason(row)), ...(head ? { head } : {}) };
    }
    if (approvalEvents) {
      const decisions = new Map<string, Row[]>();
      for (const d of (await q('SELECT * FROM approval_decisions')).rows as Row[]) {
        const id = String(d.approval_id);
        const list = decisions.get(id);
        if (list) list.push(d);
        else decisions.set(id, [d]);
      }
      const rows = (await q('SELECT * FROM approvals ORDER BY seq')).rows as Row[];
      const bad = compareApprovals(approvalEvents, rows, (id) => decisions.get(id) ?? [], cp?.cutSeq ?? null);
      if (bad) return { ...broken(bad.seq, bad.reason), ...(head ? { head } : {}) };
    }
  }
  const ok: VerifyResult = head ? { ok: true, records, head } : { ok: true, records };
  return cp ? { ...ok, checkpoint: cp } : ok;
}

/**
 * The whole-store verify on one snapshot: the chain, then the signed head in the database and the
 * operator's anchors (verify-anchors.ts), whose hashes come in one query. Why: the store's verify().
 * Records beyond the signed head are a break, as on SQLite: a key holder signs in their transaction.
 */
export async function pgVerifyStore(q: Q, signer: ChainSigner | undefined, opts: VerifyOptions, owner?: string, trusted: readonly string[] = []): Promise<VerifyResult> {
  const v = await pgVerifyChain(q, 1, Number.MAX_SAFE_INTEGER, true, signer, owner, trusted);
  if (!v.ok) return v;
  const signed = signer ? await readPgSignedHead((sql) => q(sql)) : null;
  const seqs = [...(signed ? [signed.seq] : []), ...(opts.anchors ?? []).map((a) => a.seq)];
  const hashes = new Map<number, string>();
  if (seqs.length) {
    for (const r of (await q('SELECT seq, hash FROM records WHERE seq = ANY($1::bigint[])', [seqs])).rows as Row[]) hashes.set(Number(r.seq), String(r.hash));
  }
  const hashAt = (seq: number) => hashes.get(seq);
  const s = signer && !(opts.adopting && signed === null) ? unsignedTailBreak(compareSignedHead(signed, 'in the database', signer, v.head, hashAt), v.head, opts.adopting === true) : undefined;
  const anchored = opts.anchors?.length ? anchorMismatch(opts.anchors, hashAt, v.head, v.checkpoint) : undefined;
  return withHeadChecks(v, s, anchored);
}

/** The newest record and the signed head row; why: `transcripts head` without a walk. */
export async function pgChainHead(q: Q, signer: ChainSigner | undefined): Promise<ChainHeadInfo> {
  const head = (await q('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1')).rows[0] as { seq: number; hash: string } | undefined;
  const signed = await readPgSignedHead((sql) => q(sql));
  const at = signed ? ((await q('SELECT hash FROM records WHERE seq = $1', [signed.seq])).rows[0] as { hash: string } | undefined)?.hash : undefined;
  const cut = signed && at === undefined ? ((await pgLatestCheckpoint((sql) => q(sql)))?.cutSeq ?? null) : null;
  return chainHeadInfo(head, signed, signer, () => at, () => cut);
}
