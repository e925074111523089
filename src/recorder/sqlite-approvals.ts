/**
 * Approval requests in the transcript file: the `approvals` and `approval_decisions` tables,
 * and one `approval_event` chain record per state change, written in the same transaction.
 * The tables enforce what must hold whoever writes (server, CLI, web UI): a decision needs a
 * pending, unexpired request; one decision per reviewer; the requester never decides (except
 * the requester's own confirmation of a `confirm: requester` request); used once, and a
 * combination (the requests one call needs together) used whole, in one transaction, or not at all.
 */
import type Database from 'better-sqlite3';
import { readPendingQueue } from './approval-queue-sql.js';
import {
  actorsColumn, approvalInsert, type CallBinding, checkDecision, combinedEvent, consumeAction, consumeRefusal, decisionEvent, LAST_DENIED, OPEN_FOR, OPEN_WITH_APPROVALS, type ReviewerDecision, requestedEvent, settleEvent, settlesTo, stateCondition, stillDue,
  returnable, returnedEvent, CALL_OUTCOME, inFlightUse, unrecordedSince, useInFlight, returnUpdate, voidable, voidedEvent, voidReasonOf, voidUpdate, withdrawable, withdrawnEvent, reopens, WITHDRAW,
} from './approval-rules.js';
import { decisionOf, rowOf } from './approval-rows.js';
import { type ApprovalDecisionRow, type Decided, type Recorded, type ApprovalListFilter, type ApprovalRow, type ApprovalState, type ApprovalStore, type ConsumeResult, type CreateGuard, type CreateOutcome, type Expired, type NewApproval, type VoidReason } from './approval-store.js';

/** Appends one approval_event record inside the current transaction and returns its seq. */
export type ApprovalEventWriter = (refId: string, ts: string, body: Record<string, unknown>) => number;

/** Runs fn in one IMMEDIATE write transaction with a chain writer; errors map to coded errors. */
export type ApprovalWriteTx = <T>(fn: (event: ApprovalEventWriter) => T) => T;

/** The approval tables of one SQLite store; why: the gate, the CLI and the UI share these writes. */
export class ApprovalTables implements ApprovalStore {
  constructor(
    private readonly db: Database.Database,
    private readonly write: ApprovalWriteTx,
    private readonly read: <T>(fn: () => T) => T,
  ) {}

  private decisionsOf(id: string): ApprovalDecisionRow[] {
    // Every column: a file opened read-only before v16 has no reviewer_names (read as none).
    return (this.db.prepare('SELECT * FROM approval_decisions WHERE approval_id = ? ORDER BY seq').all(id) as Record<string, unknown>[]).map(decisionOf);
  }

  private load(id: string): ApprovalRow | null {
    const r = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? rowOf(r, this.decisionsOf(id)) : null;
  }

  /** One request with its decisions, or null. */
  async get(id: string): Promise<ApprovalRow | null> {
    return this.read(() => this.load(id));
  }

  /** Newest first, optionally by state and requester (and identity source and actor chain). */
  async list(f: ApprovalListFilter = {}): Promise<ApprovalRow[]> {
    return this.read(() => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.state) where.push(stateCondition(f.state, f.asOf, (v) => (params.push(v), '?')));
      if (f.requester) (where.push('requester = ?'), params.push(f.requester));
      if (f.requesterAuth) (where.push('requester_auth = ?'), params.push(f.requesterAuth));
      if (f.requesterActors) (where.push('requester_actors IS ?'), params.push(actorsColumn(f.requesterActors)));
      const sql = `SELECT * FROM approvals ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
      params.push(Math.max(1, Math.min(f.limit ?? 100, 10_000)));
      return (this.db.prepare(sql).all(...params) as Record<string, unknown>[]).map((r) => rowOf(r, this.decisionsOf(String(r.id))));
    });
  }

  /** The newest pending ids, ids only (ApprovalStore.pendingIds). */
  async pendingIds(limit: number, asOf?: string): Promise<string[]> {
    return this.read(() => {
      const params: unknown[] = [];
      const cond = stateCondition('pending', asOf, (v) => (params.push(v), '?'));
      params.push(Math.max(1, Math.min(limit, 10_000)));
      return (this.db.prepare(`SELECT id FROM approvals WHERE ${cond} ORDER BY seq DESC LIMIT ?`).all(...params) as { id: unknown }[]).map((r) => String(r.id));
    });
  }

  /** The reviewers' queue (approval-queue-sql.ts). */
  async pendingQueue(perRequester: number, maxRequesters: number, requester?: string) {
    const sql = (q: string) => q.replace(/\$\d+/g, '?');
    const queue = await readPendingQueue(
      async (q, p) => this.read(() => this.db.prepare(sql(q)).get(...p) as Record<string, unknown> | undefined),
      async (q, p) => this.read(() => this.db.prepare(sql(q)).all(...p) as Record<string, unknown>[]),
      perRequester,
      maxRequesters,
      requester,
    );
    const groups = queue.groups.map((g) => ({ requester: g.requester, requesterAuth: g.requesterAuth, count: g.count, rows: this.read(() => g.oldest.map((id) => this.load(id)).filter((r): r is ApprovalRow => r !== null)) }));
    return { total: queue.total, groups, requesters: queue.requesters, moreRequesters: queue.moreRequesters, ...(queue.requestersCapped ? { requestersCapped: true } : {}) };
  }

  /** This requester's open, unexpired reviewer requests for this exact call, oldest first. */
  async openFor(requester: string, callHash: string, now: string): Promise<ApprovalRow[]> {
    return this.read(() => this.openRows(requester, callHash, now));
  }

  async openWithApprovals(): Promise<ApprovalRow[]> {
    return this.read(() => (this.db.prepare(OPEN_WITH_APPROVALS.replace('$1', '?')).all(unrecordedSince(Date.now())) as { id: string }[]).map((r) => this.load(r.id)!));
  }

  private openRows(requester: string, callHash: string, now: string): ApprovalRow[] {
    const ids = this.db.prepare(OPEN_FOR.replace(/\$\d/g, '?')).all(requester, callHash, now) as { id: string }[];
    return ids.map((r) => this.load(r.id)!);
  }

  /** The latest denied reviewer request of this requester for this call, exact or as it would run (by decision time), or null. */
  async lastDenied(requester: string, requesterAuth: string, callHash: string, cooldownHash = callHash): Promise<ApprovalRow | null> {
    return this.read(() => this.lastDeniedRow(requester, requesterAuth, callHash, cooldownHash));
  }

  private lastDeniedRow(requester: string, requesterAuth: string, callHash: string, cooldownHash: string): ApprovalRow | null {
    const r = this.db.prepare(LAST_DENIED.replace(/\$\d/g, '?')).get(requester, requesterAuth, callHash, cooldownHash) as { id: string } | undefined;
    return r ? this.load(r.id) : null;
  }

  /** The open, unexpired members of a combination, oldest first. */
  async combination(combinationId: string, now: string): Promise<ApprovalRow[]> {
    return this.read(() => {
      const ids = this.db
        .prepare(`SELECT id FROM approvals WHERE combination_id = ? AND state IN ('pending', 'approved') AND expires_at > ? ORDER BY seq`)
        .all(combinationId, now) as { id: string }[];
      return ids.map((r) => this.load(r.id)!);
    });
  }

  /** Link requests into a combination, one `combined` event for each that was not in it. */
  async link(ids: readonly string[], combinationId: string, callId: string, at: string): Promise<void> {
    if (!ids.length) return;
    this.write((event) => {
      for (const id of ids) {
        const row = this.load(id);
        if (!row || row.combinationId === combinationId) continue;
        event(id, at, combinedEvent(row, combinationId, callId));
        this.db.prepare('UPDATE approvals SET combination_id = ? WHERE id = ?').run(combinationId, id);
      }
    });
  }

  /** Store a new pending request (event `requested`). */
  async create(a: NewApproval): Promise<ApprovalRow & Recorded> {
    return this.write((event) => this.insertNew(event, a));
  }

  /** Store `a` unless its guard, judged in the same IMMEDIATE transaction (at the caller's time, a.createdAt), says otherwise. */
  async createUnless<R>(a: NewApproval, guard: CreateGuard<R>): Promise<CreateOutcome<R>> {
    return this.write((event) => {
      const now = a.createdAt;
      const seen = guard(this.openRows(a.requester, a.callHash, now), this.lastDeniedRow(a.requester, a.requesterAuth, a.callHash, a.cooldownHash ?? a.callHash), now);
      return seen ?? { created: this.insertNew(event, a) };
    });
  }

  private insertNew(event: ApprovalEventWriter, a: NewApproval): ApprovalRow & Recorded {
    const seq = event(a.id, a.createdAt, requestedEvent(a));
    const ins = approvalInsert(a, seq, () => '?');
    this.db.prepare(ins.sql).run(...ins.params);
    return { ...this.load(a.id)!, seq };
  }

  /**
   * Record one reviewer decision (event `decision`, then `approved`/`denied` when it settles the request).
   * `eligible` throws when the reviewer may not decide (checked inside the write lock). `selfConfirm`
   * is only for the requester's own elicitation answer on a `confirm` request.
   */
  async decide(
    id: string,
    d: ReviewerDecision,
    eligible: (row: ApprovalRow) => void,
    selfConfirm = false,
  ): Promise<Decided> {
    return this.write((event) => {
      const row = checkDecision(id, this.load(id), d, selfConfirm, eligible);
      const seq = event(id, d.at, decisionEvent(id, row, d));
      this.db
        .prepare('INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq, reviewer_names) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, d.reviewer, d.decision, d.comment, d.at, d.auth, seq, JSON.stringify(d.reviewerNames ?? []));
      const settled = settlesTo(row, d);
      const settledSeq = settled ? this.settle(event, row, settled, d.at) : null;
      return { ...this.load(id)!, seq, settledSeq };
    });
  }

  private settle(event: ApprovalEventWriter, row: ApprovalRow, state: ApprovalState, at: string, usedBy?: string): number {
    const seq = event(row.id, at, settleEvent(row, state, usedBy));
    if (state === 'used') {
      this.db.prepare(`UPDATE approvals SET state = 'used', used_at = ?, used_by_call = ? WHERE id = ?`).run(at, usedBy ?? null, row.id);
    } else {
      this.db.prepare('UPDATE approvals SET state = ?, decided_at = COALESCE(decided_at, ?) WHERE id = ?').run(state, at, row.id);
    }
    return seq;
  }

  /** Consume an approved request for one call (event `used`); false when it is no longer approved or has expired. */
  async consume(id: string, callId: string, at: string): Promise<boolean> {
    return this.write((event) => {
      const row = this.load(id);
      const action = consumeAction(row, at);
      if (action === 'no') return false;
      this.settle(event, row!, action === 'use' ? 'used' : 'expired', at, action === 'use' ? callId : undefined);
      return action === 'use';
    });
  }

  /** Use up a whole combination for one call in one transaction, or none of it. */
  async consumeAll(ids: readonly string[], call: CallBinding, at: string): Promise<ConsumeResult> {
    return this.write((event) => {
      const rows = ids.map((id) => this.load(id));
      const refusal = consumeRefusal(ids, rows, call, at);
      if (refusal) {
        const seen = new Set<string>();
        const expired: Expired[] = [];
        for (const row of rows) if (row && !seen.has(row.id) && seen.add(row.id) && consumeAction(row, at) === 'expire') expired.push({ id: row.id, seq: this.settle(event, row, 'expired', at) });
        return { used: false, ...refusal, ...(expired.length ? { expired } : {}) };
      }
      for (const row of rows) this.settle(event, row!, 'used', at, call.callId);
      return { used: true };
    });
  }

  /** Void the still-open requests of `ids` in one transaction (event `voided` each, with the reason). */
  async voidAll(ids: readonly string[], reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]> {
    return this.write((event) => {
      const voided: ({ id: string } & Recorded)[] = [];
      for (const id of new Set(ids)) {
        const row = this.load(id);
        if (!voidable(row)) continue;
        const seq = event(id, at, voidedEvent(row, reason));
        this.db.prepare(voidUpdate(() => '?')).run(JSON.stringify(voidReasonOf(reason)), at, id);
        voided.push({ id, seq });
      }
      return voided;
    });
  }

  /** Give back the requests of `ids` that `callId` used (event `returned` each), in one transaction. */
  async giveBack(ids: readonly string[], callId: string, reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]> {
    return this.write((event) => {
      const back: ({ id: string } & Recorded)[] = [];
      for (const id of new Set(ids)) {
        const row = this.load(id);
        if (!returnable(row, callId)) continue;
        back.push({ id, seq: event(id, at, returnedEvent(row, reason)) });
        this.db.prepare(returnUpdate(() => '?', row)).run(id);
      }
      return back;
    });
  }

  /** Withdraw `reviewer`'s approval of an open request (event `withdrawn`, its seq); null when there is none to withdraw. */
  async withdraw(id: string, reviewer: string, reason: string, at: string): Promise<number | null> {
    return this.write((event) => {
      const row = this.load(id);
      if (!withdrawable(row, reviewer)) return null;
      // A use is withdrawn from only while its call may still give it back: recorded and not
      // ended, or not recorded yet (its intent on its way).
      if (inFlightUse(row) && !useInFlight(row, this.db.prepare(CALL_OUTCOME.replace('$1', '?')).get(row.usedByCall) as { outcome_seq: unknown } | undefined, at)) return null;
      const seq = event(id, at, withdrawnEvent(row, reviewer, reason));
      const sql = WITHDRAW(() => '?');
      this.db.prepare(sql.decision).run(id, reviewer);
      if (reopens(row, reviewer)) this.db.prepare(sql.reopen).run(id);
      return seq;
    });
  }

  /** Move every pending or approved request past its expiry to `expired`; returns how many. */
  async expireDue(now: string): Promise<Expired[]> {
    const due = this.read(
      () => this.db.prepare(`SELECT id FROM approvals WHERE state IN ('pending', 'approved') AND expires_at <= ? ORDER BY seq`).all(now) as { id: string }[],
    );
    const done: Expired[] = [];
    for (const { id } of due) {
      const seq = this.write((event) => {
        const row = this.load(id);
        return stillDue(row, now) ? this.settle(event, row, 'expired', now) : null;
      });
      if (seq !== null) done.push({ id, seq });
    }
    return done;
  }
}
