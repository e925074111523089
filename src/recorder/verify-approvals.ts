/**
 * verify's cross-check of the approval tables against their approval_event records. The gate
 * reads `approvals` and `approval_decisions`; without this check, flipping a pending request to
 * `approved` in the file (or deleting a reviewer's deny) would go unnoticed by `verify` even
 * though the chain itself is intact. The events are replayed in seq order into the rows they
 * imply, and every row must equal its replay; a row no record backs is reported, including one
 * left at or below a retention cut (a purge removes the rows of the approvals it cuts). Each
 * event must also be a legal state change (approval-transitions.ts).
 */
import type Database from 'better-sqlite3';
import { canonicalJson } from './canonical-json.js';
import { belowCut } from './checkpoint.js';
import { actorsColumn } from './approval-rules.js';

/**
 * A decision row's reviewer_names against its record's: equal, or NULL where the record says []
 * (a store taken back to before the column and migrated again: NULL counts the decision as one
 * whose names are unknown, stricter, approval-rules.ts approvingPersons). A list where the record
 * has none is never accepted: it would count a name-less decision as a named one.
 */
const sameNames = (row: unknown, record: string | null): boolean => row === record || (row === null && record === '[]');
import { ApprovalTransitions } from './approval-transitions.js';

type Row = Record<string, unknown>;

/** What a request's events say its rows must hold. */
interface Expected {
  seq: number;
  cols: Record<string, unknown>;
  decisions: Map<string, Record<string, unknown>>;
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// JSON-text columns are compared in canonical form (the writer stored JSON.stringify of the value).
function sameJson(column: unknown, value: unknown): boolean {
  if (typeof column !== 'string') return false;
  try {
    return canonicalJson(JSON.parse(column)) === canonicalJson(value);
  } catch {
    return false;
  }
}

const JSON_COLUMNS = new Set(['rule_ids', 'reviewers', 'requester_groups']);
// Integer columns: PostgreSQL returns BIGINT as text.
const NUMBER_COLUMNS = new Set(['seq', 'approvals_required']);
// Columns a later migration added: a file opened read-only before it lacks them (read as NULL).
const LATER_COLUMNS = new Set(['combination_id', 'requester_actors', 'cooldown_hash', 'voided_reason', 'requester_names', 'rule_hash']);
// JSON-text columns that may be NULL (NULL until the request is voided).
const NULLABLE_JSON = new Set(['voided_reason']);

/** One approval_event record (seq as a number). */
export interface ApprovalEventRecord {
  seq: number;
  ref_id: string;
  ts: string;
  body: string;
}

/** Where the approval replay found a disagreement. */
export type ApprovalBreak = { seq: number; reason: string };

/** SQLite: the first approval row or event that disagrees, or null; `cutSeq`: records up to it were purged. */
export function approvalMismatch(db: Database.Database, cutSeq: number | null): ApprovalBreak | null {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'approvals'`).get();
  if (!has) return null;
  const events = db.prepare(`SELECT seq, ref_id, ts, body FROM records WHERE kind = 'approval_event' ORDER BY seq`).iterate() as IterableIterator<ApprovalEventRecord>;
  const decisionsOf = db.prepare('SELECT * FROM approval_decisions WHERE approval_id = ?');
  // Opened only when the replay reaches the rows: an iterator created and never run would keep
  // the connection busy after a finding returned early, and the next read on it would fail.
  const approvals = (function* () {
    yield* db.prepare('SELECT * FROM approvals ORDER BY seq').iterate() as IterableIterator<Row>;
  })();
  return compareApprovals(events, approvals, (id) => decisionsOf.all(id) as Row[], cutSeq);
}

/**
 * Replay `events` (in seq order) and compare with the approvals rows and each request's decision
 * rows; why exported: the PostgreSQL verify feeds the same replay from its own walk.
 */
export function compareApprovals(events: Iterable<ApprovalEventRecord>, approvals: Iterable<Row>, decisionsOf: (id: string) => Row[], cutSeq: number | null): ApprovalBreak | null {
  const expected = new Map<string, Expected>();
  const transitions = new ApprovalTransitions();
  for (const r of events) {
    const b = parse(r.body);
    if (!b || b.approvalId !== r.ref_id) return { seq: r.seq, reason: 'approval_event body does not name its request' };
    // A history no store could have written (a second use, an approval after a deny) is reported
    // even when the rows were set to match it.
    const illegal = transitions.apply(r.ref_id, b, r.ts);
    if (illegal) return { seq: r.seq, reason: illegal };
    const e = expected.get(r.ref_id);
    if (b.event === 'requested') {
      if (e) return { seq: r.seq, reason: `approval request ${JSON.stringify(r.ref_id)} is requested twice` };
      const cols: Record<string, unknown> = {
        state: 'pending', requester: b.requester, tool: b.tool, connection: b.connection ?? null, canonical_call: b.canonicalCall,
        call_hash: b.callHash, cooldown_hash: typeof b.cooldownHash === 'string' ? b.cooldownHash : null, summary: b.summary, rule_ids: b.ruleIds, approval_rule: b.approvalRule, approvals_required: b.approvalsRequired,
        reviewers: b.reviewers, confirm: b.confirm ?? null, call_id: b.callId ?? null, session_id: b.sessionId ?? null, created_at: r.ts,
        expires_at: b.expiresAt, seq: r.seq, decided_at: null, used_at: null, used_by_call: null, combination_id: b.combinationId ?? null, voided_reason: null,
        requester_actors: actorsColumn(Array.isArray(b.requesterActors) ? (b.requesterActors as string[]) : undefined),
        requester_names: actorsColumn(Array.isArray(b.requesterNames) ? (b.requesterNames as string[]) : undefined),
        rule_hash: typeof b.ruleHash === 'string' ? b.ruleHash : null,
      };
      // Older records lack these two; newer ones carry them and the rows must agree.
      if (b.requesterGroups !== undefined) cols.requester_groups = b.requesterGroups;
      if (b.requesterAuth !== undefined) cols.requester_auth = b.requesterAuth;
      expected.set(r.ref_id, { seq: r.seq, cols, decisions: new Map() });
      continue;
    }
    if (!e) {
      if (cutSeq !== null) continue; // its request may have been purged with the records before the cut
      return { seq: r.seq, reason: `approval_event for request ${JSON.stringify(r.ref_id)}, which was never requested` };
    }
    if (b.event === 'decision') {
      e.decisions.set(String(b.reviewer), {
        decision: b.decision, comment: b.comment ?? null, at: r.ts, auth: b.auth, seq: r.seq,
        // A list since names are recorded for every decision ([] for none); absent, NULL (before).
        reviewer_names: Array.isArray(b.reviewerNames) ? JSON.stringify(b.reviewerNames) : null,
      });
    } else if (b.event === 'withdrawn') {
      // The reviewer's approval no longer counts: its row goes; an approved request short of its count is pending again.
      e.decisions.delete(String(b.reviewer));
      const approvals = [...e.decisions.values()].filter((d) => d.decision === 'approve').length;
      // The store records whether it left the request short (`reopened`); older records, by count.
      const reopened = typeof b.reopened === 'boolean' ? b.reopened : approvals < Number(e.cols.approvals_required);
      if (e.cols.state === 'approved' && reopened) Object.assign(e.cols, { state: 'pending', decided_at: null });
    } else if (b.event === 'combined') {
      e.cols.combination_id = b.combinationId ?? null;
    } else if (b.event === 'used') {
      Object.assign(e.cols, { state: 'used', used_at: r.ts, used_by_call: b.callId ?? null });
    } else if (b.event === 'returned') {
      // Back to approved, or to pending (undecided) when a withdrawal while it was used left it short.
      if (b.to === 'pending') Object.assign(e.cols, { state: 'pending', decided_at: null, used_at: null, used_by_call: null });
      else Object.assign(e.cols, { state: 'approved', used_at: null, used_by_call: null });
    } else if (b.event === 'voided') {
      Object.assign(e.cols, { state: 'voided', decided_at: e.cols.decided_at ?? r.ts, voided_reason: b.reason ?? null });
    } else if (b.event === 'approved' || b.event === 'denied' || b.event === 'expired') {
      Object.assign(e.cols, { state: b.event, decided_at: e.cols.decided_at ?? r.ts });
    } else return { seq: r.seq, reason: `unknown approval event ${JSON.stringify(b.event)}` };
  }

  const seen = new Set<string>();
  for (const row of approvals) {
    const id = String(row.id);
    const seq = Number(row.seq);
    const e = expected.get(id);
    if (!e) {
      // A purge removes the rows of the approvals it cuts, so a row whose history is gone could
      // say anything (a used approval set back to approved) and must not be there.
      if (cutSeq !== null && seq <= cutSeq) return { seq, reason: belowCut(`approvals row ${JSON.stringify(id)}`, cutSeq) };
      return { seq, reason: `approvals row ${JSON.stringify(id)} has no requested record` };
    }
    seen.add(id);
    const bad = Object.entries(e.cols)
      .filter(([k, v]) => {
        const col = LATER_COLUMNS.has(k) && !(k in row) ? null : row[k];
        if (NULLABLE_JSON.has(k)) return v === null ? col !== null : !sameJson(col, v);
        return JSON_COLUMNS.has(k) ? !sameJson(row[k], v) : NUMBER_COLUMNS.has(k) ? Number(row[k]) !== v : col !== v;
      })
      .map(([k]) => k);
    if (bad.length) return { seq: e.seq, reason: `approvals row ${JSON.stringify(id)} differs from its records (${bad.join(', ')})` };
    const rows = decisionsOf(id);
    const wrong =
      rows.length !== e.decisions.size ||
      rows.some((d) => {
        const x = e.decisions.get(String(d.reviewer));
        // reviewer_names: absent from a file opened read-only before SQLite v16 (read as NULL).
        return !x || d.decision !== x.decision || d.comment !== x.comment || d.at !== x.at || d.auth !== x.auth || Number(d.seq) !== x.seq || !sameNames(d.reviewer_names ?? null, x.reviewer_names as string | null);
      });
    if (wrong) return { seq: e.seq, reason: `approval_decisions of ${JSON.stringify(id)} differ from its decision records` };
  }
  for (const [id, e] of expected) {
    if (!seen.has(id)) return { seq: e.seq, reason: `approval request ${JSON.stringify(id)} has no approvals row` };
  }
  return null;
}
