/**
 * Approval requests in the PostgreSQL store: the same tables, checks and approval_event records
 * as sqlite-approvals.ts, written through the group-commit writer (so they take the chain-head
 * lock like every append). Each state change also sends NOTIFY warden_approvals at commit, so a
 * call waiting on another replica wakes at once; the waiting call's polling is the fallback.
 * Whether a request has expired is decided by the database's clock (pg-clock.ts) when a request
 * is used, decided or swept: replicas and CLIs share this store but not their clocks. The
 * callers' times are kept on the `used` and `decision` records; an `expired`, `approved` or
 * `denied` record (and decided_at) carries the database time that decided it, and a request made
 * with `ttlMs` gets its created_at and expires_at from the database's clock too. The reads
 * (openFor, combination) filter by the time the caller passes (the gate passes the store's clock).
 */
import type pg from 'pg';
import {
  actorsColumn, approvalInsert, type CallBinding, checkDecision, combinedEvent, consumeAction, consumeRefusal, decisionEvent, LAST_DENIED, OPEN_FOR, OPEN_WITH_APPROVALS, type ReviewerDecision, requestedEvent, settleEvent, settlesTo, stateCondition, stillDue,
  returnable, returnedEvent, CALL_OUTCOME, inFlightUse, unrecordedSince, useInFlight, returnUpdate, voidable, voidedEvent, voidReasonOf, voidUpdate, withdrawable, withdrawnEvent, reopens, WITHDRAW,
} from './approval-rules.js';
import { canonicalParts, joinParts } from './canonical-json.js';
import { DB_NOW_ISO, dbNow } from './pg-clock.js';
import { pgStoreError } from './pg-errors.js';
import type { PgTx, PgWriter } from './pg-writer.js';
import type { ApprovalListFilter, ApprovalRow, ApprovalState, ApprovalStore, ConsumeResult, CreateGuard, CreateOutcome, Decided, Expired, NewApproval, Recorded, VoidReason } from './approval-store.js';
import { decisionOf, rowOf } from './approval-rows.js';
import { pgPendingQueue } from './pg-approval-queue.js';

/** The NOTIFY channel; why: the store's listener and the writers agree on one name. */
export const APPROVALS_CHANNEL = 'warden_approvals';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

async function load(q: Q, id: string, lock = false): Promise<ApprovalRow | null> {
  const r = (await q(`SELECT * FROM approvals WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])).rows[0] as Record<string, unknown> | undefined;
  if (!r) return null;
  const d = (await q('SELECT reviewer, decision, comment, at, auth, reviewer_names FROM approval_decisions WHERE approval_id = $1 ORDER BY seq', [id])).rows as Record<string, unknown>[];
  return rowOf(r, d.map(decisionOf));
}

async function event(tx: PgTx, refId: string, ts: string, body: Record<string, unknown>): Promise<number> {
  let text: string;
  try {
    text = joinParts(canonicalParts(body));
  } catch (e) {
    throw pgStoreError('write', e);
  }
  const seq = await tx.append('approval_event', refId, ts, text);
  await tx.q('SELECT pg_notify($1, $2)', [APPROVALS_CHANNEL, refId]);
  return seq;
}

async function settle(tx: PgTx, row: ApprovalRow, state: ApprovalState, at: string, usedBy?: string): Promise<number> {
  const seq = await event(tx, row.id, at, settleEvent(row, state, usedBy));
  if (state === 'used') await tx.q(`UPDATE approvals SET state = 'used', used_at = $1, used_by_call = $2 WHERE id = $3`, [at, usedBy ?? null, row.id]);
  else await tx.q('UPDATE approvals SET state = $1, decided_at = COALESCE(decided_at, $2) WHERE id = $3', [state, at, row.id]);
  return seq;
}

async function loadIds(q: Q, sql: string, params: unknown[]): Promise<ApprovalRow[]> {
  const out: ApprovalRow[] = [];
  for (const r of (await q(sql, params)).rows as { id: string }[]) {
    const row = await load(q, r.id);
    if (row) out.push(row);
  }
  return out;
}

/** Insert a new request (event `requested`); with `ttlMs`, created at `now` (the database's time) and expiring ttlMs after it. */
async function insertNew(tx: PgTx, req: NewApproval, now: string): Promise<ApprovalRow & Recorded> {
  const a = req.ttlMs !== undefined ? { ...req, createdAt: now, expiresAt: new Date(Date.parse(now) + req.ttlMs).toISOString() } : req;
  const seq = await event(tx, a.id, a.createdAt, requestedEvent(a));
  const ins = approvalInsert(a, seq, (n) => `$${n}`);
  await tx.q(ins.sql, ins.params);
  return { ...(await load(tx.q, a.id))!, seq };
}

/** The approval tables of one PostgreSQL store; why: the gate, the CLI and the UI of every replica share them. */
export class PgApprovalTables implements ApprovalStore {
  constructor(
    private readonly q: Q,
    private readonly writer: PgWriter,
    /** Resolves on the next NOTIFY (any replica), after ms, or on abort. */
    readonly changed: (ms: number, signal: AbortSignal) => Promise<void>,
  ) {}

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw pgStoreError('read', e);
    }
  }

  get(id: string): Promise<ApprovalRow | null> {
    return this.read(() => load(this.q, id));
  }

  /** The newest pending ids, ids only (ApprovalStore.pendingIds). */
  pendingIds(limit: number, asOf?: string): Promise<string[]> {
    return this.read(async () => {
      const params: unknown[] = [];
      const cond = stateCondition('pending', asOf, (v) => (params.push(v), `$${params.length}`));
      params.push(Math.max(1, Math.min(limit, 10_000)));
      return ((await this.q(`SELECT id FROM approvals WHERE ${cond} ORDER BY seq DESC LIMIT $${params.length}`, params)).rows as { id: unknown }[]).map((r) => String(r.id));
    });
  }

  list(f: ApprovalListFilter = {}): Promise<ApprovalRow[]> {
    return this.read(async () => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.state) where.push(stateCondition(f.state, f.asOf, (v) => (params.push(v), `$${params.length}`)));
      if (f.requester) (params.push(f.requester), where.push(`requester = $${params.length}`));
      if (f.requesterAuth) (params.push(f.requesterAuth), where.push(`requester_auth = $${params.length}`));
      if (f.requesterActors) (params.push(actorsColumn(f.requesterActors)), where.push(`requester_actors IS NOT DISTINCT FROM $${params.length}`));
      params.push(Math.max(1, Math.min(f.limit ?? 100, 10_000)));
      const rows = (await this.q(`SELECT id FROM approvals ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT $${params.length}`, params)).rows as { id: string }[];
      const out: ApprovalRow[] = [];
      for (const r of rows) {
        const row = await load(this.q, r.id);
        if (row) out.push(row);
      }
      return out;
    });
  }

  /** The reviewers' queue (approval-queue-sql.ts), in one statement (pg-approval-queue.ts). */
  pendingQueue(perRequester: number, maxRequesters: number, requester?: string) {
    return this.read(() => pgPendingQueue(this.q, perRequester, maxRequesters, requester));
  }

  openFor(requester: string, callHash: string, now: string): Promise<ApprovalRow[]> {
    return this.loadAll(OPEN_FOR, [requester, callHash, now]);
  }

  openWithApprovals(): Promise<ApprovalRow[]> {
    return this.loadAll(OPEN_WITH_APPROVALS, [unrecordedSince(Date.now())]);
  }

  combination(combinationId: string, now: string): Promise<ApprovalRow[]> {
    return this.loadAll(`SELECT id FROM approvals WHERE combination_id = $1 AND state IN ('pending', 'approved') AND expires_at > $2 ORDER BY seq`, [combinationId, now]);
  }

  private loadAll(sql: string, params: unknown[]): Promise<ApprovalRow[]> {
    return this.read(() => loadIds(this.q, sql, params));
  }

  async link(ids: readonly string[], combinationId: string, callId: string, at: string): Promise<void> {
    if (!ids.length) return;
    await this.writer.write(async (tx) => {
      for (const id of [...ids].sort()) {
        const row = await load(tx.q, id, true);
        if (!row || row.combinationId === combinationId) continue;
        await event(tx, id, at, combinedEvent(row, combinationId, callId));
        await tx.q('UPDATE approvals SET combination_id = $1 WHERE id = $2', [combinationId, id]);
      }
    });
  }

  /** The database's time (the clock this store decides by). */
  now(): Promise<string> {
    return this.read(() => dbNow(this.q));
  }

  async lastDenied(requester: string, requesterAuth: string, callHash: string, cooldownHash = callHash): Promise<ApprovalRow | null> {
    const r = await this.read(async () => (await this.q(LAST_DENIED, [requester, requesterAuth, callHash, cooldownHash])).rows[0] as { id: string } | undefined);
    return r ? this.get(r.id) : null;
  }

  /** Store a new request; with `ttlMs`, made at the database's time and expiring ttlMs after it (not the replica's clock). */
  create(req: NewApproval): Promise<ApprovalRow & Recorded> {
    return this.writer.write(async (tx) => insertNew(tx, req, req.ttlMs !== undefined ? await dbNow(tx.q) : req.createdAt));
  }

  /**
   * Store `req` unless its guard says otherwise, judged in the same transaction: every write of
   * every replica first takes the chain-head row lock (pg-writer.ts), so no other replica's
   * request or denial lands between the guard's reads and this insert. Judged at the database's time.
   */
  createUnless<R>(req: NewApproval, guard: CreateGuard<R>): Promise<CreateOutcome<R>> {
    return this.writer.write(async (tx): Promise<CreateOutcome<R>> => {
      const now = await dbNow(tx.q);
      const open = await loadIds(tx.q, OPEN_FOR, [req.requester, req.callHash, now]);
      const deniedId = ((await tx.q(LAST_DENIED, [req.requester, req.requesterAuth, req.callHash, req.cooldownHash ?? req.callHash])).rows[0] as { id: string } | undefined)?.id;
      const seen = guard(open, deniedId ? await load(tx.q, deniedId) : null, now);
      return seen ?? { created: await insertNew(tx, req, now) };
    });
  }

  decide(id: string, d: ReviewerDecision, eligible: (row: ApprovalRow) => void, selfConfirm = false): Promise<Decided> {
    return this.writer.write(async (tx) => {
      const now = await dbNow(tx.q);
      const row = checkDecision(id, await load(tx.q, id, true), d, selfConfirm, eligible, now);
      const seq = await event(tx, id, d.at, decisionEvent(id, row, d));
      await tx.q('INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq, reviewer_names) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [id, d.reviewer, d.decision, d.comment, d.at, d.auth, seq, JSON.stringify(d.reviewerNames ?? [])]);
      const settled = settlesTo(row, d);
      // Settled (decided_at) at the database's time: the deny cooldown counts from it, whatever the reviewer's clock.
      const settledSeq = settled ? await settle(tx, row, settled, now) : null;
      return { ...(await load(tx.q, id))!, seq, settledSeq };
    });
  }

  consume(id: string, callId: string, at: string): Promise<boolean> {
    return this.writer.write(async (tx) => {
      const row = await load(tx.q, id, true);
      const now = await dbNow(tx.q);
      const action = consumeAction(row, now);
      if (action === 'no') return false;
      if (action === 'expire') await settle(tx, row!, 'expired', now);
      else await settle(tx, row!, 'used', at, callId);
      return action === 'use';
    });
  }

  consumeAll(ids: readonly string[], call: CallBinding, at: string): Promise<ConsumeResult> {
    return this.writer.write(async (tx) => {
      // Lock in id order (no deadlock with another replica's consume), check in the gate's order.
      const locked = new Map<string, ApprovalRow | null>();
      for (const id of [...new Set(ids)].sort()) locked.set(id, await load(tx.q, id, true));
      const rows = ids.map((id) => locked.get(id) ?? null);
      const now = await dbNow(tx.q);
      const refusal = consumeRefusal(ids, rows, call, now);
      if (refusal) {
        const expired: Expired[] = [];
        for (const row of locked.values()) if (row && consumeAction(row, now) === 'expire') expired.push({ id: row.id, seq: await settle(tx, row, 'expired', now) });
        return { used: false, ...refusal, ...(expired.length ? { expired } : {}) };
      }
      for (const row of rows) await settle(tx, row!, 'used', at, call.callId);
      return { used: true };
    });
  }

  /** Void the still-open requests of `ids` in one transaction (locked in id order, as consumeAll), event `voided` each. */
  voidAll(ids: readonly string[], reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]> {
    return this.writer.write(async (tx) => {
      const voided: ({ id: string } & Recorded)[] = [];
      for (const id of [...new Set(ids)].sort()) {
        const row = await load(tx.q, id, true);
        if (!voidable(row)) continue;
        const seq = await event(tx, id, at, voidedEvent(row, reason));
        await tx.q(voidUpdate((n) => `$${n}`), [JSON.stringify(voidReasonOf(reason)), at, id]);
        voided.push({ id, seq });
      }
      return voided;
    });
  }

  /** Give back the requests of `ids` that `callId` used (locked in id order, event `returned` each), in one transaction. */
  giveBack(ids: readonly string[], callId: string, reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]> {
    return this.writer.write(async (tx) => {
      const back: ({ id: string } & Recorded)[] = [];
      for (const id of [...new Set(ids)].sort()) {
        const row = await load(tx.q, id, true);
        if (!returnable(row, callId)) continue;
        back.push({ id, seq: await event(tx, id, at, returnedEvent(row, reason)) });
        await tx.q(returnUpdate((n) => `$${n}`, row), [id]);
      }
      return back;
    });
  }

  /** Withdraw `reviewer`'s approval of an open request (event `withdrawn`, its seq); null when there is none to withdraw. */
  withdraw(id: string, reviewer: string, reason: string, at: string): Promise<number | null> {
    return this.writer.write(async (tx) => {
      const row = await load(tx.q, id, true);
      if (!withdrawable(row, reviewer)) return null;
      // A use is withdrawn from only while its call may still give it back: recorded and not
      // ended, or not recorded yet (its intent on its way).
      if (inFlightUse(row) && !useInFlight(row, (await tx.q(CALL_OUTCOME, [row.usedByCall])).rows[0] as { outcome_seq: unknown } | undefined, at)) return null;
      const seq = await event(tx, id, at, withdrawnEvent(row, reviewer, reason));
      const sql = WITHDRAW((n) => `$${n}`);
      await tx.q(sql.decision, [id, reviewer]);
      if (reopens(row, reviewer)) await tx.q(sql.reopen, [id]);
      return seq;
    });
  }

  /** Expire what is due by the database's clock; `_callerNow` (the caller's clock) decides nothing here. */
  async expireDue(_callerNow: string): Promise<Expired[]> {
    const due = await this.read(async () => (await this.q(`SELECT id FROM approvals WHERE state IN ('pending', 'approved') AND expires_at <= ${DB_NOW_ISO} ORDER BY seq LIMIT 1000`)).rows as { id: string }[]);
    if (!due.length) return [];
    // Each under its row lock: of replicas sweeping at once, one moves a request and reports it.
    const done = await Promise.all(
      due.map(({ id }) =>
        this.writer.write(async (tx): Promise<Expired | null> => {
          const row = await load(tx.q, id, true);
          const now = await dbNow(tx.q);
          if (!stillDue(row, now)) return null;
          return { id, seq: await settle(tx, row, 'expired', now) };
        }),
      ),
    );
    return done.filter((x): x is Expired => x !== null);
  }
}
