/**
 * Chain verification for the SQLite store: recompute every hash in seq order, then check that
 * the query tables (sessions, calls, and the call_facets filter index) say exactly what the records say. One ordered scan of the
 * records joined with their rows (verify-span.ts); a long chain is split in two spans, the second
 * walked by a worker thread at the same time; the link between the spans is checked here. The
 * approval tables are replayed from their approval_event records (verify-approvals.ts).
 */
import type Database from 'better-sqlite3';
import { belowCut } from './checkpoint.js';
import { GENESIS_HASH } from './hash-chain.js';
import { latestCheckpoint } from './sqlite-purge.js';
import type { ChainSigner } from './signing.js';
import type { VerifyResult } from './types.js';
import { checkCheckpoint, orphanRow } from './verify-exact.js';
import { approvalMismatch } from './verify-approvals.js';
import { facetMismatch } from './verify-facets.js';
import { schemaMismatch } from './verify-schema.js';
import { textIndexMismatch } from './verify-text-index.js';
import { type MatchCounts, mergeFacets } from './verify-fast.js';
import { parallelVerifyUseful, startWorkerSpan, VERIFY_MMAP_BYTES } from './verify-parallel.js';
import { type SpanResult, verifySpan } from './verify-span.js';

/** Why: one walk serves both the whole-chain verify and a cheap range check. */
export function verifyChain(db: Database.Database, fromSeq: number, toSeq: number, global: boolean, signer?: ChainSigner): VerifyResult {
  let expected = Math.max(1, fromSeq);
  let prev = GENESIS_HASH;
  // Retention removed a prefix: the walk starts after the newest cut, from the hash the checkpoint names.
  const cp = latestCheckpoint(db);
  if (cp && expected <= cp.cutSeq + 1) {
    if (fromSeq > 1 && fromSeq <= cp.cutSeq) {
      return { ok: false, records: 0, firstBroken: { seq: fromSeq, reason: `records up to ${cp.cutSeq} were purged by retention` } };
    }
    // Nothing may sit at or below the cut: verify does not walk there, so such a record (and any
    // row that points at it) would pass unchecked.
    const below = (db.prepare('SELECT MIN(seq) AS s FROM records WHERE seq <= ?').get(cp.cutSeq) as { s: number | null }).s;
    if (below !== null) {
      return { ok: false, records: 0, firstBroken: { seq: below, reason: belowCut(`record ${below}`, cp.cutSeq) } };
    }
    expected = cp.cutSeq + 1;
    prev = cp.cutHash;
  } else if (expected > 1) {
    const before = db.prepare('SELECT hash FROM records WHERE seq = ?').get(expected - 1) as { hash: string } | undefined;
    if (!before) return { ok: false, records: 0, firstBroken: { seq: expected - 1, reason: `record ${expected - 1} is missing` } };
    prev = before.hash;
  }
  const span = withMmap(db, () => walk(db, expected, toSeq, prev, cp?.cutSeq ?? null, global, signer));
  const records = span.records;
  const broken = (seq: number, reason: string): VerifyResult => ({ ok: false, records, firstBroken: { seq, reason } });
  if (span.broken) return broken(span.broken.seq, span.broken.reason);
  const head = records > 0 ? { seq: span.lastSeq, hash: span.lastHash } : undefined;
  const withCp = (v: VerifyResult): VerifyResult => (cp ? { ...v, checkpoint: cp } : v);
  if (global) {
    if (hasTable(db, 'checkpoints')) {
      const lost = db.prepare(
        `SELECT c.record_seq AS seq FROM checkpoints c LEFT JOIN records r ON r.seq = c.record_seq AND r.kind = 'checkpoint'
         WHERE r.seq IS NULL AND c.cut_seq = (SELECT MAX(cut_seq) FROM checkpoints) LIMIT 1`,
      ).get() as { seq: number } | undefined;
      if (lost) return withCp(broken(lost.seq, `the retention checkpoint at record ${lost.seq} has no record in the chain`));
    }
    const orphan = orphanRow(db, everyRowMatched(db, span.counts)) ?? facetMismatch(db, span.counts.facets) ?? approvalMismatch(db, cp?.cutSeq ?? null) ?? textIndexMismatch(db, expected, span.lastSeq)
      ?? schemaMismatch(db, span.counts.approvalEvents);
    if (orphan) return { ...broken(orphan.seq, orphan.reason), ...(head ? { head } : {}) };
  }
  return withCp(head ? { ok: true, records, head } : { ok: true, records });
}

/** Map the file for the walk, then restore the connection's setting. */
function withMmap<T>(db: Database.Database, fn: () => T): T {
  if (db.memory) return fn();
  const before = db.pragma('mmap_size', { simple: true }) as number;
  db.pragma(`mmap_size = ${VERIFY_MMAP_BYTES}`);
  try {
    return fn();
  } finally {
    db.pragma(`mmap_size = ${before}`);
  }
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** The walk matched as many rows as the tables hold: no sessions/calls row lacks its record. */
function everyRowMatched(db: Database.Database, n: MatchCounts): boolean {
  const s = db.prepare('SELECT COUNT(*) AS rows, COUNT(close_seq) AS closed FROM sessions').get() as { rows: number; closed: number };
  const c = db.prepare('SELECT COUNT(*) AS rows FROM calls').get() as { rows: number };
  const open = db.prepare('SELECT COUNT(*) AS rows FROM calls WHERE outcome_seq IS NULL').get() as { rows: number };
  return n.opens === s.rows && n.closes === s.closed && n.intents === c.rows && n.outcomes === c.rows - open.rows;
}

/** Walk from..to, in two concurrent spans when the chain is long and the store is a file. */
function walk(db: Database.Database, from: number, to: number, prev: string, cutSeq: number | null, textIndex: boolean, signer?: ChainSigner): SpanResult {
  const last = (db.prepare('SELECT MAX(seq) AS s FROM records WHERE seq <= ?').get(to) as { s: number | null }).s ?? 0;
  if (db.memory || !parallelVerifyUseful(last - from + 1)) return verifySpan(db, from, to, prev, { signer, textIndex });
  // The worker starts a little later (thread and module start-up), so it gets the smaller part.
  const mid = from + Math.floor((last - from + 1) * 0.55);
  const midHash = (db.prepare('SELECT hash FROM records WHERE seq = ?').get(mid - 1) as { hash: string } | undefined)?.hash;
  if (midHash === undefined) return verifySpan(db, from, to, prev, { signer, textIndex });
  const pending = startWorkerSpan(db.name, mid, last, midHash, cutSeq, textIndex);
  const t0 = performance.now();
  const first = verifySpan(db, from, mid - 1, prev, { signer, mustReach: true, textIndex });
  const reply = pending.wait(first.broken ? 0 : Math.max(10_000, 3 * (performance.now() - t0)));
  if (first.broken) return first;
  const second = 'span' in reply ? reply.span : verifySpan(db, mid, last, midHash, { signer, textIndex });
  // Checkpoints in the worker's span: their signatures are checked here, with the key.
  let broken = second.broken;
  if (signer && 'span' in reply && second.unsignedCheckpoints.length) {
    const byHash = db.prepare('SELECT * FROM records WHERE seq = ?');
    const checkpointAt = db.prepare('SELECT * FROM checkpoints WHERE record_seq = ?');
    for (const seq of second.unsignedCheckpoints) {
      const why = checkCheckpoint(byHash.get(seq) as Parameters<typeof checkCheckpoint>[0], checkpointAt, signer);
      if (why && (!broken || seq < broken.seq)) broken = { seq, reason: why };
      if (why) break;
    }
  }
  const records = first.records + (broken ? broken.seq - mid : second.records);
  const facets = mergeFacets(first.counts.facets, second.counts.facets);
  const counts: MatchCounts = {
    opens: first.counts.opens + second.counts.opens, closes: first.counts.closes + second.counts.closes,
    intents: first.counts.intents + second.counts.intents, outcomes: first.counts.outcomes + second.counts.outcomes,
    approvalEvents: first.counts.approvalEvents + second.counts.approvalEvents, facets,
  };
  return {
    records, lastSeq: second.lastSeq, lastHash: second.lastHash, counts, unsignedCheckpoints: [], ...(broken ? { broken } : {}),
  };
}
