/**
 * Row -> view mapping and the short human phrases (who must approve, how long is left) used in
 * progress notifications, pending results and the CLI. Why: every surface says the same thing.
 */
import { approvingPersons, type ApprovalRow } from '../recorder/index.js';
import type { ApprovalView } from './review-api.js';
import { actingFor } from './actors.js';

/** The reviewer-facing view of a stored request. */
export function toView(r: ApprovalRow): ApprovalView {
  let call: ApprovalView['call'];
  try {
    call = JSON.parse(r.canonicalCall) as ApprovalView['call'];
  } catch {
    call = undefined;
  }
  return {
    id: r.id,
    state: r.state,
    requester: r.requester,
    ...(r.requesterActors.length ? { requester_actors: [...r.requesterActors] } : {}),
    tool: r.tool,
    connection: r.connection,
    summary: r.summary,
    rule_ids: r.ruleIds,
    approvals_required: r.approvalsRequired,
    approvals: approvalsOf(r),
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    call_id: r.callId,
    session_id: r.sessionId,
    // The reviewer's recorded person names are not shown (as the requester's): the subject alone.
    decisions: r.decisions.map((d) => ({ reviewer: d.reviewer, decision: d.decision, comment: d.comment, at: d.at, auth: d.auth })),
    ...(call ? { call } : {}),
    call_hash: r.callHash,
    approval_rule: r.approvalRule,
    reviewers: r.reviewers,
    ...(r.voided ? { voided: { code: r.voided.code, message: r.voided.message, rule_ids: [...r.voided.ruleIds] } } : {}),
  };
}

/**
 * The view with its combination. A linked request (its combinationId, stored when the gate made
 * or reused it) belongs with the open requests of `open` that carry the same link, in the order
 * they were made. A request stored before the link existed falls back to inference: `open` is the
 * requester's open requests for the same call (store openFor, oldest first), and of those the
 * requests under rules this request's decision matched count, one per rule (the newest). Nothing
 * is added when this request is not among them or is the only one.
 */
export function withCombination(r: ApprovalRow, open: readonly ApprovalRow[], view: ApprovalView = toView(r)): ApprovalView {
  const group = r.combinationId !== null ? linkedGroup(r, open) : inferredGroup(r, open);
  const part = group.findIndex((o) => o.id === r.id);
  if (part < 0 || group.length < 2) return view;
  const others = group
    .filter((o) => o.id !== r.id)
    .map((o) => ({ id: o.id, approval_rule: o.approvalRule, state: o.state, approvals_required: o.approvalsRequired, approvals: approvalsOf(o) }));
  return { ...view, combination: { part: part + 1, of: group.length, others } };
}

// The open requests with the same stored link, oldest first (a stable sort keeps the order of
// requests made at the same instant: the gate makes them in requirement order).
function linkedGroup(r: ApprovalRow, open: readonly ApprovalRow[]): ApprovalRow[] {
  return open.filter((o) => o.combinationId === r.combinationId).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

// Before the link: only rules this request's own decision matched (its rule ids), newest per rule.
function inferredGroup(r: ApprovalRow, open: readonly ApprovalRow[]): ApprovalRow[] {
  const related = open.filter((o) => o.id === r.id || r.ruleIds.includes(o.approvalRule));
  const newest = new Map<string, ApprovalRow>();
  for (const o of related) newest.set(o.approvalRule, o);
  return related.filter((o) => newest.get(o.approvalRule) === o);
}

/** "approval 1 of 2 for this call; the call also needs 3f2c… (rule security-two: security, 0 of 2, pending)"; '' without a combination. */
export function combinationLine(v: Pick<ApprovalView, 'combination'>): string {
  const c = v.combination;
  if (!c) return '';
  const others = c.others.map((o) => `${o.id} (rule ${o.approval_rule}, ${o.approvals} of ${o.approvals_required}, ${o.state})`).join('; ');
  return `approval ${c.part} of ${c.of} for this call, which runs only when every one is approved; also needed: ${others}`;
}

// People, as the store counts them toward the required number (a decision without names counts only so far).
function approvalsOf(r: Pick<ApprovalRow, 'decisions'>): number {
  return approvingPersons(r.decisions);
}

/** "1 of 2": the people counted toward the required number (the view's `approvals`). Why: every surface counts as the gate does. */
export function approvalsCount(v: Pick<ApprovalView, 'approvals' | 'approvals_required'>): string {
  return `${v.approvals} of ${v.approvals_required}`;
}

/** "WARDEN_DENIED: the policy was reloaded … (live rules: freeze)"; '' unless voided. Raw text: callers make it reviewable. */
export function voidedLine(v: Pick<ApprovalView, 'voided'>): string {
  const x = v.voided;
  return x ? `${x.code}: ${x.message} (live rules: ${x.rule_ids.length ? x.rule_ids.join(', ') : 'none'})` : '';
}

/** "dba", "dba or alice", "any reviewer". */
export function reviewersLabel(r: Pick<ApprovalRow, 'reviewers'>): string {
  const names = [...(r.reviewers.groups ?? []), ...(r.reviewers.subjects ?? [])];
  return names.length ? names.join(' or ') : 'any reviewer other than the requester';
}

/** "29m", "45s", "2h". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.round(m / 60)}h`;
}

/** The progress line: "waiting for approval by dba, 0 of 1, expires in 29m". */
export function waitingLine(r: ApprovalRow, now: number, expiresAt = Date.parse(r.expiresAt)): string {
  return `waiting for approval by ${reviewersLabel(r)}, ${approvalsOf(r)} of ${r.approvalsRequired}, expires in ${humanDuration(expiresAt - now)} (approval id ${r.id})`;
}
/** "alice (agent-x acting for alice)" when an agent acted for the requester; the subject alone otherwise. Raw text: callers make it reviewable. */
export function requesterLabel(v: Pick<ApprovalView, 'requester' | 'requester_actors'>): string {
  return v.requester_actors?.length ? `${v.requester} (${actingFor(v.requester, v.requester_actors)})` : v.requester;
}
