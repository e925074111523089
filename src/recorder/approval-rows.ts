/**
 * A stored approvals or approval_decisions row (SQLite or PostgreSQL: the same columns) read
 * into the shapes of approval-store.ts. Why apart: both stores and the PostgreSQL queue decode
 * rows alike, and the contract module stays the contract.
 */
import type { ApprovalDecisionRow, ApprovalRow, ApprovalState, VoidReason } from './approval-store.js';

/** An approval_decisions row (SQLite or PostgreSQL, or the PostgreSQL queue's JSON of one) as an ApprovalDecisionRow. */
export function decisionOf(r: Record<string, unknown>): ApprovalDecisionRow {
  return {
    reviewer: String(r.reviewer),
    decision: r.decision as ApprovalDecisionRow['decision'],
    comment: (r.comment as string | null | undefined) ?? null,
    at: String(r.at),
    auth: String(r.auth),
    reviewerNames: typeof r.reviewer_names === 'string' ? (JSON.parse(r.reviewer_names) as string[]) : [],
    namesRecorded: typeof r.reviewer_names === 'string',
  };
}

/** An approvals table row (SQLite or PostgreSQL: the same columns) as an ApprovalRow. */
export function rowOf(r: Record<string, unknown>, decisions: ApprovalDecisionRow[]): ApprovalRow {
  return {
    id: String(r.id),
    state: r.state as ApprovalState,
    requester: String(r.requester),
    requesterGroups: JSON.parse(String(r.requester_groups)) as string[],
    requesterAuth: String(r.requester_auth),
    requesterActors: typeof r.requester_actors === 'string' ? (JSON.parse(r.requester_actors) as string[]) : [],
    requesterNames: typeof r.requester_names === 'string' ? (JSON.parse(r.requester_names) as string[]) : [],
    tool: String(r.tool),
    connection: (r.connection as string | null) ?? null,
    canonicalCall: String(r.canonical_call),
    callHash: String(r.call_hash),
    cooldownHash: (r.cooldown_hash as string | null | undefined) ?? null,
    summary: String(r.summary),
    ruleIds: JSON.parse(String(r.rule_ids)) as string[],
    approvalRule: String(r.approval_rule),
    approvalsRequired: Number(r.approvals_required),
    reviewers: JSON.parse(String(r.reviewers)) as ApprovalRow['reviewers'],
    confirm: (r.confirm as string | null) ?? null,
    callId: (r.call_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    usedByCall: (r.used_by_call as string | null) ?? null,
    createdAt: String(r.created_at),
    expiresAt: String(r.expires_at),
    decidedAt: (r.decided_at as string | null) ?? null,
    usedAt: (r.used_at as string | null) ?? null,
    combinationId: (r.combination_id as string | null | undefined) ?? null,
    voided: typeof r.voided_reason === 'string' ? (JSON.parse(r.voided_reason) as VoidReason) : null,
    ruleHash: (r.rule_hash as string | null | undefined) ?? null,
    decisions,
  };
}
