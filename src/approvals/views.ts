/**
 * Row -> view mapping and the short human phrases (who must approve, how long is left) used in
 * progress notifications, pending results and the CLI. Why: every surface says the same thing.
 */
import type { ApprovalRow } from '../recorder/index.js';
import type { ApprovalView } from './review-api.js';

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
    tool: r.tool,
    connection: r.connection,
    summary: r.summary,
    rule_ids: r.ruleIds,
    approvals_required: r.approvalsRequired,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    call_id: r.callId,
    session_id: r.sessionId,
    decisions: r.decisions.map((d) => ({ ...d })),
    ...(call ? { call } : {}),
    call_hash: r.callHash,
  };
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
export function waitingLine(r: ApprovalRow, now: number): string {
  const got = r.decisions.filter((d) => d.decision === 'approve').length;
  return `waiting for approval by ${reviewersLabel(r)}, ${got} of ${r.approvalsRequired}, expires in ${humanDuration(Date.parse(r.expiresAt) - now)} (approval id ${r.id})`;
}
