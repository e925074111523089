/**
 * The reviewer-facing contract shared by the CLI, the HTTP API and the web UI: a plain view of
 * an approval request and the four operations a reviewer has. The approval service implements it.
 */
import type { Principal } from '../tool-api.js';
import type { DecisionRefusal } from './decision-refusal.js';

/** One approval request as reviewers see it; why: CLI --json, HTTP and UI print the same fields. */
export interface ApprovalView {
  id: string;
  state: 'pending' | 'approved' | 'denied' | 'expired' | 'used' | 'voided';
  requester: string;
  /** The agents that acted for `requester` (token exchange `act` chain, current actor first); absent without delegation. */
  requester_actors?: string[];
  tool: string;
  connection: string | null;
  summary: string;
  rule_ids: string[];
  approvals_required: number;
  /**
   * The approving people counted toward `approvals_required`, as the gate counts them
   * (approval-rules.ts approvingPersons: approvals recorded before reviewer names and named ones
   * are not added up), not the number of approve decisions listed. Every surface shows this.
   */
  approvals: number;
  created_at: string;
  expires_at: string;
  call_id: string | null;
  session_id: string | null;
  decisions: { reviewer: string; decision: 'approve' | 'deny'; comment: string | null; at: string; auth: string }[];
  /** The canonical call the approval is bound to (tool, connection, normalised arguments), for reviewers to read. */
  call?: { tool: string; connection: string | null; args: Record<string, unknown> };
  /** sha256 of the canonical call. */
  call_hash?: string;
  /** The rule whose `approval:` terms this request carries (a confirmation lists its rules). */
  approval_rule?: string;
  /** Who may decide this request (the rule's `reviewers:` as it was when it was made; empty: anyone but the requester). */
  reviewers?: { subjects?: string[]; groups?: string[]; claims?: Record<string, string | string[]> };
  /**
   * When the call needs other open requests too (a call that several approval rules match needs
   * every one of them): this request's place among them and the others, read from the link the
   * gate stored (inferred from the requester's open requests for the same call for requests made
   * before the link existed). Absent when this request is the only one, or is no longer open.
   */
  combination?: ApprovalCombination;
  /**
   * State `voided`: the live policy refused the call this request waited for, after a reload
   * (the refusal's code and message, and the live decision's rule ids); it can never run a call.
   */
  voided?: { code: string; message: string; rule_ids: string[] };
}

/** The open requests one call needs together; `part` counts from 1, in the order they were made. */
export interface ApprovalCombination {
  part: number;
  of: number;
  others: { id: string; approval_rule: string; state: ApprovalView['state']; approvals_required: number; approvals: number }[];
}

/** One request of a reviewer's queue, with what would refuse this reviewer's approve and deny. */
export interface QueueEntry {
  view: ApprovalView;
  refused: { approve: DecisionRefusal | null; deny: DecisionRefusal | null };
}

/** A reviewer's queue by requester: `total` pending in all; `groups`, oldest request first, each with its `count` and oldest `entries`. */
export interface ReviewQueue {
  total: number;
  groups: { requester: string; requesterAuth: string; count: number; entries: QueueEntry[] }[];
  /** How many requesters have pending requests (of the `requester` asked for, when one was): `requesters - groups.length` are not shown. */
  requesters: number;
  /** More requesters have pending requests than `groups` holds. */
  moreRequesters: boolean;
  /** The store walked its most requesters (approval-queue-sql.ts): `requesters` is a lower bound. */
  requestersCapped?: boolean;
}

/** What a reviewer can do; why: one implementation behind every reviewer surface. */
export interface ApprovalReviewApi {
  /** Newest first; `requester` narrows to one subject's requests before the limit, so another's flood cannot crowd them out. */
  list(filter?: { state?: ApprovalView['state']; limit?: number; requester?: string }): Promise<ApprovalView[]>;
  /**
   * The pending requests as `reviewer` would decide them: each view with why an approve and a
   * deny by this reviewer would be refused (null: allowed), by the check approve and deny make
   * (decision-refusal.ts), without deciding anything. Why: a queue offers only what the server accepts.
   */
  queueFor(reviewer: Principal, limit?: number): Promise<QueueEntry[]>;
  /**
   * The queue grouped by requester (subject and identity source), as queueFor judges each entry:
   * every pending request counted, each requester's oldest few shown, so that one requester's
   * flood cannot push another's requests out of a reviewer's sight; the requesters shown are
   * those whose oldest pending request is oldest. `filter.requester`: that subject's requests only
   * (each identity source a group). Absent: queueFor alone.
   */
  queue?(reviewer: Principal, filter?: { requester?: string }): Promise<ReviewQueue>;
  /**
   * The ids of the newest `limit` pending requests, nothing else read (requests past their expiry
   * settled first, as list does). Why: the UI's live feed compares them every second, and list
   * reads and parses every request's call. Absent: the feed uses list.
   */
  pendingIds?(limit: number): Promise<string[]>;
  get(id: string): Promise<ApprovalView | null>;
  /** Throws WardenError (code WARDEN_DENIED) when refused: self-approval, reviewer not allowed, already decided, expired. */
  approve(id: string, reviewer: Principal, comment?: string): Promise<ApprovalView>;
  deny(id: string, reviewer: Principal, comment?: string): Promise<ApprovalView>;
  /**
   * A verified token of `reviewer` was seen: withdraw their approvals of open requests whose
   * reviewers it no longer matches (withdraw.ts); the ids withdrawn from. approve and deny do it too.
   */
  withdrawIneligible?(reviewer: Principal): Promise<string[]>;
}
