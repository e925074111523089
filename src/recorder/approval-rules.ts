/**
 * The approval table rules both stores enforce, written once: what a decision must satisfy, when
 * it settles a request, and the approval_event bodies and approvals row a change writes. Each
 * store (sqlite-approvals.ts synchronously, pg-approvals.ts asynchronously) only runs the SQL.
 * Why shared: two copies of a security check drift apart.
 */
import { ErrorCode, WardenError } from '../errors.js';
import type { ApprovalDecisionRow, ApprovalRow, ApprovalState, NewApproval, VoidReason } from './approval-store.js';

/** One reviewer decision as a store receives it. */
export interface ReviewerDecision {
  reviewer: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  auth: string;
  at: string;
  /** The reviewer's person names (approvals/subjects.ts decisionNames), recorded with the decision; absent: none. */
  reviewerNames?: string[];
}

/** Every name a decision records: its reviewer and its person names. */
const namesOf = (d: { reviewer: string; reviewerNames?: readonly string[] }): string[] => [d.reviewer, ...(d.reviewerNames ?? [])];

/** A refusal of an approval change (coded DENIED). */
export const refused = (message: string): WardenError => new WardenError(ErrorCode.DENIED, message);

/**
 * Throw unless `d` may be recorded on request `id` (`row` as loaded under the write lock): the
 * request exists, is pending and unexpired; a `confirm` request takes only the requester's own
 * confirmation and any other only reviewers; the requester (its subject, any actor of its
 * delegation chain or any of its recorded person names) never reviews, by its subject or any of
 * its own recorded names; one decision each, by any name (an earlier decision's reviewer or person
 * names). These store checks compare exactly; the service's (approvals/decision-refusal.ts) fold.
 * `eligible` (the reviewer's policy check) runs last. Expiry is judged at `now`: the decision's
 * own time in SQLite, the database's time in PostgreSQL (pg-clock.ts).
 */
export function checkDecision(id: string, row: ApprovalRow | null, d: ReviewerDecision, selfConfirm: boolean, eligible: (row: ApprovalRow) => void, now = d.at): ApprovalRow {
  if (!row) throw refused(`no approval request ${id}`);
  if (row.expiresAt <= now && (row.state === 'pending' || row.state === 'approved')) throw refused(`approval request ${id} has expired`);
  if (row.state !== 'pending') throw refused(`approval request ${id} is already ${row.state}`);
  if (selfConfirm ? row.confirm === null || d.reviewer !== row.requester : row.confirm !== null) {
    throw refused(`approval request ${id} can only be answered by the requester's own confirmation`);
  }
  if (!selfConfirm && (d.reviewer === row.requester || row.requesterActors.includes(d.reviewer) || row.requesterNames.includes(d.reviewer))) throw refused(`${d.reviewer} requested this call and cannot approve or deny it`);
  if (row.decisions.some((x) => x.reviewer === d.reviewer)) throw refused(`${d.reviewer} has already decided on approval request ${id}`);
  eligible(row);
  // By the recorded person names too, after `eligible` (the service's folded check, whose refusal
  // says which name matched): what verify's replay holds every decision record to.
  const mine = namesOf(d);
  if (!selfConfirm && mine.some((n) => n === row.requester || row.requesterActors.includes(n) || row.requesterNames.includes(n))) throw refused(`${d.reviewer} requested this call and cannot approve or deny it`);
  if (row.decisions.some((x) => namesOf(x).some((n) => mine.includes(n)))) throw refused(`${d.reviewer} has already decided on approval request ${id}`);
  return row;
}

/**
 * How many distinct people `decisions` provably approve. Decisions with recorded names are
 * distinct people (a shared name is refused: checkDecision); so are the name-less ones of before
 * SQLite v16 / PostgreSQL v13 among themselves (as their subjects were compared then). But a
 * name-less one may be any of the named ones (who approved as `00u9dana` then may approve again
 * as `dana@corp.example`), so the two groups do not add up: the larger counts. Why: fail closed
 * without guessing aliases; an approval given before the upgrade still counts as one person.
 */
export function approvingPersons(decisions: readonly Pick<ApprovalDecisionRow, 'decision' | 'namesRecorded'>[]): number {
  const approves = decisions.filter((x) => x.decision === 'approve');
  const named = approves.filter((x) => x.namesRecorded !== false).length;
  return Math.max(named, approves.length - named);
}

/** The state decision `d` moves the request to: denied at once, approved at the required count of people, or none yet. */
export function settlesTo(row: ApprovalRow, d: ReviewerDecision): 'approved' | 'denied' | null {
  if (d.decision === 'deny') return 'denied';
  const approvals = approvingPersons([...row.decisions, { decision: 'approve', namesRecorded: true }]);
  return approvals >= row.approvalsRequired ? 'approved' : null;
}

/** What a consume finds: 'use' the approval, 'expire' it, or 'no' (not approved). */
export function consumeAction(row: ApprovalRow | null, at: string): 'use' | 'expire' | 'no' {
  if (!row || row.state !== 'approved') return 'no';
  return row.expiresAt <= at ? 'expire' : 'use';
}

/** The call a combination is used for: requests serve only this call of this requester. */
export interface CallBinding {
  callId: string;
  callHash: string;
  requester: string;
  /**
   * The id of the requester's confirmation (`confirm: requester`) given for this very call
   * (`callId`), used up with the reviewer requests when a rule asks for both; no other
   * confirmation is ever part of a combination.
   */
  confirmation?: string;
}

/** Why a combination could not be used: the first request that refused it, and its state then. */
export interface ConsumeRefusal {
  id: string;
  state: ApprovalState | null;
  reason: string;
}

/**
 * Whether every request of a combination (as loaded under the write lock) may be used now by
 * `call`: each exists, is an approved reviewer request (or the confirmation `call.confirmation`
 * names, given for this call id), unexpired at `at`, bound to the same call hash and requester,
 * and listed once. Null when all may; why shared: both
 * stores use a combination whole or not at all on this one check.
 */
export function consumeRefusal(ids: readonly string[], rows: readonly (ApprovalRow | null)[], call: CallBinding, at: string): ConsumeRefusal | null {
  if (!ids.length) return { id: '', state: null, reason: 'no approval requests to use' };
  if (new Set(ids).size !== ids.length) return { id: ids[0]!, state: null, reason: 'a request is listed twice' };
  for (const [i, row] of rows.entries()) {
    const id = ids[i]!;
    if (!row) return { id, state: null, reason: `no approval request ${id}` };
    const foreignConfirm = row.confirm !== null && (row.id !== call.confirmation || row.callId !== call.callId);
    if (row.callHash !== call.callHash || row.requester !== call.requester || foreignConfirm) return { id, state: row.state, reason: `approval request ${id} is not for this call` };
    if (row.state !== 'approved') return { id, state: row.state, reason: `approval request ${id} is ${row.state}` };
    if (row.expiresAt <= at) return { id, state: 'expired', reason: `approval request ${id} has expired` };
  }
  return null;
}

/** Whether a due request (by the expiry sweep) is still to expire when re-read under the lock. */
export function stillDue(row: ApprovalRow | null, now: string): row is ApprovalRow {
  return row !== null && (row.state === 'pending' || row.state === 'approved') && row.expiresAt <= now;
}

/**
 * The list filter's state condition, `ph(v)` adding a parameter and giving its placeholder. With
 * `asOf` (a reader that may not settle expiries: `warden approvals list` opens the store read-only),
 * a pending or approved request past its expiry counts as expired, as the sweep will record it.
 */
export function stateCondition(state: ApprovalState, asOf: string | undefined, ph: (v: unknown) => string): string {
  if (asOf !== undefined && state === 'expired') return `(state = 'expired' OR (state IN ('pending', 'approved') AND expires_at <= ${ph(asOf)}))`;
  const cond = `state = ${ph(state)}`;
  return asOf !== undefined && (state === 'pending' || state === 'approved') ? `(${cond} AND expires_at > ${ph(asOf)})` : cond;
}

/** A row as the expiry sweep would leave it at `now`; why: a read-only reader shows what it may not settle. */
export const asSettledAt = (row: ApprovalRow, now: string): ApprovalRow => (stillDue(row, now) ? { ...row, state: 'expired' } : row);

/**
 * The deny cooldown's lookup (both stores; `$n` placeholders, in order: requester, identity
 * source, exact call hash, cooldown hash): by the exact call hash (the approvals_lookup index) or
 * the cooldown hash (approvals_cooldown; NULL in rows older than the column, which so match by
 * their exact hash only). The requester is subject and identity source, as in the gate: a stdio
 * `sam` is not an OIDC `sam`.
 */
export const LAST_DENIED = `SELECT id FROM approvals WHERE requester = $1 AND requester_auth = $2 AND (call_hash = $3 OR cooldown_hash = $4) AND state = 'denied' AND confirm IS NULL ORDER BY decided_at DESC, seq DESC LIMIT 1`;

/**
 * openFor's lookup (both stores; `$n` placeholders: requester, exact call hash, now): the
 * requester's open, unexpired reviewer requests for this exact call, oldest first.
 */
export const OPEN_FOR = `SELECT id FROM approvals WHERE requester = $1 AND call_hash = $2 AND state IN ('pending', 'approved') AND expires_at > $3 AND confirm IS NULL ORDER BY seq`;

/**
 * Every open reviewer request holding at least one approve decision, oldest first: what a
 * reviewer's withdrawal (approvals/withdraw.ts) must see whole. Why no limit: the agent makes as
 * many pending requests as it makes gated calls, but only reviewers make approvals, so a flood of
 * requests can neither grow this nor push an approved-for request out of it. A request `used` by a
 * call recorded without its outcome yet (it has not ended) counts as open too (inFlightUse): that
 * call may still give it back (give-back.ts), and what it gives back must not carry an approval
 * withdrawn meanwhile; so does one used since `$1` (UNRECORDED_USE_MS ago) by a call not recorded
 * yet: the pipeline records its intent just after the use, and a withdrawal in between was missed
 * (the call then ran on it; it re-reads its requests once its intent is in: in-flight.ts). A use
 * whose call has ended, or was never recorded that long after it, is history.
 */
export const OPEN_WITH_APPROVALS = `SELECT id FROM approvals a WHERE (state IN ('pending', 'approved') OR (state = 'used' AND (EXISTS (SELECT 1 FROM calls c WHERE c.id = a.used_by_call AND c.outcome_seq IS NULL)
  OR (a.used_at > $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = a.used_by_call))))) AND confirm IS NULL AND EXISTS (SELECT 1 FROM approval_decisions d WHERE d.approval_id = a.id AND d.decision = 'approve') ORDER BY seq`;

/**
 * How long after its use a request whose call is not recorded counts as in flight. Why this
 * long: the intent is written milliseconds after the use; a call never recorded (its process
 * gone, its store failing) stops counting after this, by the caller's clock (replicas' clocks
 * within minutes of each other).
 */
export const UNRECORDED_USE_MS = 10 * 60_000;

/** The `$1` of OPEN_WITH_APPROVALS at `nowMs`: uses since then whose call is not recorded count as in flight. */
export const unrecordedSince = (nowMs: number): string => new Date(nowMs - UNRECORDED_USE_MS).toISOString();

/** The `requested` event body of a new request. */
export function requestedEvent(a: NewApproval): Record<string, unknown> {
  return { approvalId: a.id, event: 'requested', requester: a.requester, requesterGroups: a.requesterGroups, requesterAuth: a.requesterAuth, ...(a.requesterActors?.length ? { requesterActors: a.requesterActors } : {}), ...(a.requesterNames?.length ? { requesterNames: a.requesterNames } : {}), tool: a.tool, connection: a.connection, callHash: a.callHash, ...(a.cooldownHash ? { cooldownHash: a.cooldownHash } : {}), canonicalCall: a.canonicalCall, summary: a.summary, ruleIds: a.ruleIds, approvalRule: a.approvalRule, approvalsRequired: a.approvalsRequired, reviewers: a.reviewers, confirm: a.confirm, callId: a.callId, sessionId: a.sessionId, expiresAt: a.expiresAt, ...(a.ttlMs !== undefined ? { expiresMs: a.ttlMs } : {}), ...(a.combinationId ? { combinationId: a.combinationId } : {}), ...(a.ruleHash ? { ruleHash: a.ruleHash } : {}) };
}

/** The `combined` event body: the request joins combination `combinationId` (the gate of call `callId` waits on it). */
export function combinedEvent(row: ApprovalRow, combinationId: string, callId: string): Record<string, unknown> {
  return { approvalId: row.id, event: 'combined', callId, combinationId, previous: row.combinationId };
}

/** The `decision` event body. */
export function decisionEvent(id: string, row: ApprovalRow, d: ReviewerDecision): Record<string, unknown> {
  return { approvalId: id, event: 'decision', callId: row.callId, reviewer: d.reviewer, reviewerNames: d.reviewerNames ?? [], decision: d.decision, comment: d.comment, auth: d.auth };
}

/** The event body of a state change (approved, denied, expired, used). */
export function settleEvent(row: ApprovalRow, state: ApprovalState, usedBy?: string): Record<string, unknown> {
  return { approvalId: row.id, event: state, callId: usedBy ?? row.callId, from: row.state };
}

/**
 * Whether `reviewer`'s approval of a request (as loaded under the write lock) can be withdrawn:
 * an open reviewer request (pending, or approved and not yet used) holding an approve by exactly
 * that reviewer. Why: a reviewer who no longer qualifies must not keep counting (approvals/withdraw.ts).
 */
export function withdrawable(row: ApprovalRow | null, reviewer: string): row is ApprovalRow {
  return (voidable(row) || inFlightUse(row)) && row.confirm === null && row.decisions.some((d) => d.reviewer === reviewer && d.decision === 'approve');
}

/**
 * Whether a request (as loaded under the write lock) is `used` by a call; the store withdraws from
 * it only while that call may still give it back (useInFlight), as OPEN_WITH_APPROVALS finds. Why: red-team, a reviewer seen out of the group while the call that used her approval
 * waited for an SSH session slot kept it, and the cancelled call gave it back approved.
 */
export function inFlightUse(row: ApprovalRow | null): row is ApprovalRow {
  return row !== null && row.state === 'used' && row.usedByCall !== null;
}

/** Call `$1`'s outcome seq, if it is recorded (NULL: it has not ended); read under the withdrawal's write lock (useInFlight). */
export const CALL_OUTCOME = 'SELECT outcome_seq FROM calls WHERE id = $1';

/**
 * Whether a used request's call may still give it back, `call` its CALL_OUTCOME row (undefined:
 * not recorded) and `at` the withdrawal's time: recorded and not ended, or not recorded yet and
 * used within UNRECORDED_USE_MS (its intent is on its way: OPEN_WITH_APPROVALS).
 */
export function useInFlight(row: ApprovalRow, call: { outcome_seq: unknown } | undefined, at: string): boolean {
  if (call) return call.outcome_seq === null;
  return row.usedAt !== null && row.usedAt > unrecordedSince(Date.parse(at));
}

/**
 * The state a given-back request returns to: `approved` while its approving people still reach
 * its count, else `pending` (an approval was withdrawn while it was used). Why: a give-back is the
 * request's approval granted again, and must hold to the count as a decision does.
 */
export function returnsTo(row: ApprovalRow): 'approved' | 'pending' {
  return approvingPersons(row.decisions) >= row.approvalsRequired ? 'approved' : 'pending';
}

/** Whether withdrawing `reviewer`'s approval takes an approved request back to pending (fewer approvals than required). */
export function reopens(row: ApprovalRow, reviewer: string): boolean {
  return row.state === 'approved' && approvingPersons(row.decisions.filter((d) => d.reviewer !== reviewer)) < row.approvalsRequired;
}

/** The `withdrawn` event body: `reviewer`'s approval no longer counts, and why (the state it was withdrawn from). */
export function withdrawnEvent(row: ApprovalRow, reviewer: string, reason: string): Record<string, unknown> {
  return { approvalId: row.id, event: 'withdrawn', callId: row.callId, reviewer, reason, from: row.state, reopened: reopens(row, reviewer) };
}

/** The statements a withdrawal runs, with `ph(n)` the store's n-th placeholder: params [id, reviewer], then [id]. */
export const WITHDRAW = (ph: (n: number) => string) => ({
  decision: `DELETE FROM approval_decisions WHERE approval_id = ${ph(1)} AND reviewer = ${ph(2)}`,
  reopen: `UPDATE approvals SET state = 'pending', decided_at = NULL WHERE id = ${ph(1)}`,
});

/**
 * Whether giveBack returns this request (as loaded under the write lock): it is `used` by exactly
 * `callId`. Why so narrow: only the call that spent it knows it never started, and a request used
 * by any other call (or not used at all) is not that call's to give back.
 */
export function returnable(row: ApprovalRow | null, callId: string): row is ApprovalRow {
  return row !== null && row.state === 'used' && row.usedByCall === callId;
}

/** The `returned` event body: the use by `row.usedByCall` is undone (that call never started), the state it returns `to` (returnsTo), and why. */
export function returnedEvent(row: ApprovalRow, reason: VoidReason): Record<string, unknown> {
  return { approvalId: row.id, event: 'returned', callId: row.usedByCall, from: row.state, to: returnsTo(row), reason: voidReasonOf(reason) };
}

/** The UPDATE that gives a used request back (to returnsTo(row); pending is undecided again), with `ph(n)` the store's n-th placeholder: params [id]. */
export const returnUpdate = (ph: (n: number) => string, row: ApprovalRow): string =>
  returnsTo(row) === 'approved'
    ? `UPDATE approvals SET state = 'approved', used_at = NULL, used_by_call = NULL WHERE id = ${ph(1)}`
    : `UPDATE approvals SET state = 'pending', decided_at = NULL, used_at = NULL, used_by_call = NULL WHERE id = ${ph(1)}`;

/** Whether voidAll voids this request (as loaded under the write lock): it is still open. */
export function voidable(row: ApprovalRow | null): row is ApprovalRow {
  return row !== null && (row.state === 'pending' || row.state === 'approved');
}

/** The `voided` event body: the state change with its reason (the live policy's refusal). */
export function voidedEvent(row: ApprovalRow, reason: VoidReason): Record<string, unknown> {
  return { ...settleEvent(row, 'voided'), reason: voidReasonOf(reason) };
}

/** The reason as stored (event body and voided_reason column): exactly these three fields. */
export function voidReasonOf(r: VoidReason): VoidReason {
  return { code: r.code, message: r.message, ruleIds: [...r.ruleIds] };
}

/** The UPDATE that voids a request, with `ph(n)` the store's n-th placeholder: params [reason JSON, at, id]. */
export const voidUpdate = (ph: (n: number) => string): string =>
  `UPDATE approvals SET state = 'voided', voided_reason = ${ph(1)}, decided_at = COALESCE(decided_at, ${ph(2)}) WHERE id = ${ph(3)}`;

/** The INSERT of a new approvals row, with `ph(n)` the store's n-th placeholder (`?` or `$n`). */
export function approvalInsert(a: NewApproval, seq: number, ph: (n: number) => string): { sql: string; params: unknown[] } {
  const params: unknown[] = [a.id, a.requester, JSON.stringify(a.requesterGroups), a.requesterAuth, a.tool, a.connection, a.canonicalCall, a.callHash, a.summary,
    JSON.stringify(a.ruleIds), a.approvalRule, a.approvalsRequired, JSON.stringify(a.reviewers), a.confirm, a.callId, a.sessionId, a.createdAt, a.expiresAt, seq, a.combinationId ?? null, actorsColumn(a.requesterActors), a.cooldownHash ?? null, actorsColumn(a.requesterNames), a.ruleHash ?? null];
  const values = params.map((_, i) => ph(i + 1));
  values.splice(1, 0, `'pending'`);
  return {
    sql: `INSERT INTO approvals (id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids,
      approval_rule, approvals_required, reviewers, confirm, call_id, session_id, created_at, expires_at, seq, combination_id, requester_actors, cooldown_hash, requester_names, rule_hash) VALUES (${values.join(', ')})`,
    params,
  };
}

/**
 * The requester_actors, requester_names and reviewer_names columns: the list as JSON text, NULL when empty (as in
 * rows older than the column). Why shared: verify expects exactly what the writer stores.
 */
export function actorsColumn(actors: readonly string[] | undefined): string | null {
  return actors?.length ? JSON.stringify(actors) : null;
}
