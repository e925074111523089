/**
 * One verify walk over a span of seqs: an ordered scan of records, with the calls and sessions
 * tables scanned beside it in rowid order (a merge, not a lookup per record; rows are written in
 * seq order), recomputing each hash and link and cross-checking each row (fast string check,
 * exact check when unsure or when a row is not where the merge expects it).
 * Why a span: the main thread and a worker thread each walk a part of a long chain.
 */
import type Database from 'better-sqlite3';
import { recordHash } from './hash-chain.js';
import { checkCheckpoint, crossCheck, type RecordRow } from './verify-exact.js';
import { C, CALLS_SQL, countExact, fastConsistent, type MatchCounts, newCounts, nonTextColumn, R, RECORDS_SQL, type RawRow, S, SESSIONS_SQL } from './verify-fast.js';
import type { ChainSigner } from './signing.js';
import { TextEntries } from './verify-text-entries.js';
import { Utf8Check } from './verify-utf8.js';

/** What a span walk found; why: spans are combined into one VerifyResult. */
export interface SpanResult {
  /** Records verified before the first break (or all of them). */
  records: number;
  /** The last verified record (seq from - 1 and the given prev hash when none). */
  lastSeq: number;
  lastHash: string;
  broken?: { seq: number; reason: string };
  counts: MatchCounts;
  /** Checkpoint records whose signature was not checked here (deferSignatures). */
  unsignedCheckpoints: number[];
}

/** Options of a span walk. */
export interface SpanOptions {
  signer?: ChainSigner | undefined;
  /** Leave checkpoint signatures to the caller (a worker has no key). */
  deferSignatures?: boolean;
  /** The span must reach `to`: a missing record at its end is a gap, not the chain's end. */
  mustReach?: boolean;
  /** Check the free-text index's entries of the span against its calls (whole-chain verify). */
  textIndex?: boolean;
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function asRecord(row: RawRow): RecordRow {
  return {
    seq: row[R.seq] as number, kind: row[R.kind] as string, ref_id: row[R.refId] as string, ts: row[R.ts] as string,
    body: row[R.body] as string, prev_hash: row[R.prevHash] as string, hash: row[R.hash] as string,
  };
}

/** A forward-only scan of a table in rowid order, positioned at the first row whose `seqCol` >= from. */
class Merge {
  private readonly it: IterableIterator<RawRow>;
  private head: RawRow | undefined;
  /** Rows met at their first record, kept for their second one (outcome, close) by id. */
  readonly later = new Map<unknown, RawRow>();

  constructor(db: Database.Database, table: string, select: string, seqCol: string, private readonly at: number, from: number) {
    const start = from <= 1 ? 0 : startRowid(db, table, seqCol, from);
    this.it = db.prepare(`${select} WHERE rowid >= ? ORDER BY rowid`).raw().iterate(start) as IterableIterator<RawRow>;
    this.step();
  }

  private step(): void {
    const n = this.it.next();
    this.head = n.done ? undefined : n.value;
  }

  /** The row written with record `seq`, if it is next in rowid order; rows before it are passed over. */
  take(seq: number): RawRow | undefined {
    while (this.head && !(typeof this.head[this.at] === 'number' && (this.head[this.at] as number) >= seq)) this.step();
    if (this.head?.[this.at] !== seq) return undefined;
    const row = this.head;
    this.step();
    return row;
  }

  close(): void {
    this.it.return?.();
  }
}

// The first rowid whose row's seq column is >= from (binary search; rows are appended in seq order).
function startRowid(db: Database.Database, table: string, seqCol: string, from: number): number {
  const at = db.prepare(`SELECT ${seqCol} AS s FROM ${table} WHERE rowid >= ? ORDER BY rowid LIMIT 1`);
  let lo = 0;
  let hi = ((db.prepare(`SELECT MAX(rowid) AS m FROM ${table}`).get() as { m: number | null }).m ?? 0) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = at.get(mid) as { s: unknown } | undefined;
    if (!r || (typeof r.s === 'number' && r.s >= from)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Walk records from..to (inclusive) starting from `prev`, the hash the first record must link to. */
export function verifySpan(db: Database.Database, from: number, to: number, prev: string, opts: SpanOptions = {}): SpanResult {
  const records = db.prepare(`${RECORDS_SQL} WHERE seq >= ? AND seq <= ? ORDER BY seq`).raw();
  const calls = new Merge(db, 'calls', CALLS_SQL, 'seq', C.seq, from);
  const sessions = new Merge(db, 'sessions', SESSIONS_SQL, 'open_seq', S.openSeq, from);
  const text = opts.textIndex ? TextEntries.open(db, from, to) : null;
  try {
    return walk(db, records.iterate(from, to) as IterableIterator<RawRow>, from, to, prev, calls, sessions, opts, text);
  } finally {
    calls.close();
    sessions.close();
    text?.close();
  }
}

/** The row a record is checked against, from the merges (undefined: not in place, look it up). */
function rowFor(rec: RawRow, calls: Merge, sessions: Merge): RawRow | undefined {
  const seq = rec[R.seq] as number;
  const ref = rec[R.refId];
  let row: RawRow | undefined;
  switch (rec[R.kind]) {
    case 'call_intent':
      row = calls.take(seq);
      if (row && typeof row[C.outcomeSeq] === 'number' && (row[C.outcomeSeq] as number) > seq) calls.later.set(row[C.id], row);
      return row;
    case 'call_outcome':
      row = calls.later.get(ref);
      calls.later.delete(ref);
      return row;
    case 'session_open':
      row = sessions.take(seq);
      if (row && typeof row[S.closeSeq] === 'number' && (row[S.closeSeq] as number) > seq) sessions.later.set(row[S.id], row);
      return row;
    case 'session_close':
      row = sessions.later.get(ref);
      sessions.later.delete(ref);
      return row;
    default:
      return undefined;
  }
}

function walk(
  db: Database.Database, scan: IterableIterator<RawRow>, from: number, to: number, prev: string, calls: Merge, sessions: Merge, opts: SpanOptions,
  text: TextEntries | null,
): SpanResult {
  let exact: { sessionById: Database.Statement; callById: Database.Statement; outcomeAt: Database.Statement } | undefined;
  let checkpointAt: Database.Statement | null | undefined;
  const utf8 = new Utf8Check(db);
  const res: SpanResult = {
    records: 0, lastSeq: from - 1, lastHash: prev, counts: newCounts(), unsignedCheckpoints: [],
  };
  let expected = from;
  for (const rec of scan) {
    const seq = rec[R.seq] as number;
    const kind = rec[R.kind];
    let why: string | null = null;
    if (seq !== expected) {
      res.broken = { seq: expected, reason: `record ${expected} is missing (the next record is ${seq})` };
      break;
    }
    const untyped = nonTextColumn(rec) ?? utf8.invalidColumn(rec);
    if (untyped) why = `record ${seq}'s ${untyped}`;
    else if (rec[R.prevHash] !== prev) why = 'prev_hash does not match the previous record (reordered or replaced)';
    else if (recordHash(prev, kind as string, rec[R.refId] as string, rec[R.ts] as string, rec[R.body] as string) !== rec[R.hash]) {
      why = 'hash mismatch: the record was edited';
    } else if (kind === 'checkpoint') {
      if (checkpointAt === undefined) checkpointAt = hasTable(db, 'checkpoints') ? db.prepare('SELECT * FROM checkpoints WHERE record_seq = ?') : null;
      why = checkCheckpoint(asRecord(rec), checkpointAt, opts.deferSignatures ? undefined : opts.signer);
      if (!why && opts.deferSignatures) res.unsignedCheckpoints.push(seq);
    } else if (!fastConsistent(rec, rowFor(rec, calls, sessions), res.counts)) {
      exact ??= {
        sessionById: db.prepare('SELECT * FROM sessions WHERE id = ?'), callById: db.prepare('SELECT * FROM calls WHERE id = ?'),
        outcomeAt: db.prepare('SELECT outcome_seq FROM calls WHERE id = ?').pluck(),
      };
      why = crossCheck(asRecord(rec), exact.sessionById, exact.callById);
      if (!why) countExact(kind, seq, kind === 'call_outcome' ? exact.outcomeAt.get(rec[R.refId]) : null, rec[R.body], res.counts);
    }
    if (why) {
      res.broken = { seq, reason: why };
      break;
    }
    const unindexed = text && kind === 'call_intent' ? text.intent(seq) : null;
    if (unindexed) {
      res.broken = unindexed;
      break;
    }
    prev = rec[R.hash] as string;
    res.lastSeq = seq;
    res.lastHash = prev;
    res.records++;
    expected++;
  }
  if (!res.broken && text) {
    const left = text.end();
    if (left) res.broken = left;
  }
  if (!res.broken && opts.mustReach && res.lastSeq < to) {
    const next = (db.prepare('SELECT MIN(seq) AS s FROM records WHERE seq > ?').get(res.lastSeq) as { s: number | null }).s;
    const gap = res.lastSeq + 1;
    res.broken = { seq: gap, reason: next === null ? `record ${gap} is missing` : `record ${gap} is missing (the next record is ${next})` };
  }
  return res;
}
