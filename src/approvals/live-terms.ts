/**
 * Whether a request's approval terms (its rule, reviewers and count, stored when it was made)
 * are still the live policy's. Why: a request keeps the reviewers its rule named when it was
 * made; after a reload that changes them (a reviewer group no longer trusted, a rule removed or
 * no longer asking for approval), the reviewers it no longer names must not decide it, and a
 * call already waiting must not run on what they approved. A later call never takes such a
 * request up again (the gate's `fits`); these checks close the decision and the wait in between.
 */
import { ErrorCode } from '../errors.js';
import { canonicalJson } from '../recorder/index.js';
import type { ApprovalRow } from '../recorder/index.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { GateResult } from './service.js';
import { ruleDigest } from './rule-terms.js';

/** Why the request's terms are no longer the live policy's, or null when they are (or no policy is known, or it is a confirmation). */
export function staleTerms(row: ApprovalRow, policy: CompiledPolicy | undefined): string | null {
  if (!policy || row.confirm !== null) return null;
  const rule = policy.rules.find((r) => r.id === row.approvalRule);
  const why = !rule
    ? 'the rule is gone'
    : !rule.approval || (rule.approval.confirm === 'requester' && !rule.approval.reviewers)
      ? 'the rule no longer asks reviewers for approval'
      : canonicalJson(rule.approval.reviewers ?? {}) !== canonicalJson(row.reviewers)
        ? 'its reviewers changed'
        : rule.approval.approvals > row.approvalsRequired
          ? `it now needs ${rule.approval.approvals} approvals`
          : null;
  return why ? `the approval terms of rule ${row.approvalRule} changed since request ${row.id} was made (policy reload: ${why}); calling again asks anew under the current terms` : null;
}

/**
 * The live policy's shortest `expires` over the rules of `rows` (a combination's requests), or
 * Infinity (no policy known, or none of them names a live rule asking for approval: staleTerms
 * refuses those). Why: a retry judges a request's age by the live rule's `expires` (the gate's
 * `fits`); a call already waiting must too, so a reload that shortens it is not outwaited.
 */
export function liveExpiresMs(rows: readonly ApprovalRow[], policy: CompiledPolicy | undefined): number {
  if (!policy) return Infinity;
  let ms = Infinity;
  // A confirmation names every rule that asked for it ('a, b'): each one's live expires counts.
  for (const id of rows.flatMap((r) => (r.confirm !== null ? r.approvalRule.split(', ') : [r.approvalRule]))) {
    const e = policy.rules.find((x) => x.id === id)?.approval?.expires;
    if (e !== undefined && e < ms) ms = e;
  }
  return ms;
}

/**
 * The refusal of the requester's `confirmation` when it is older, at `t`, than the live policy's
 * `expires` of the rules that asked for it, or undefined. Why: the reviewers' requests are judged
 * by the live `expires` (liveExpiresMs); the confirmation is part of the same permission, so a
 * reload that shortens a confirming rule's expiry ends the confirmation too, fail closed.
 */
export function confirmationLapsed(confirmation: ApprovalRow, policy: CompiledPolicy | undefined, t: number): GateResult | undefined {
  if (Date.parse(confirmation.createdAt) + liveExpiresMs([confirmation], policy) > t) return undefined;
  return {
    granted: false,
    code: ErrorCode.APPROVAL_EXPIRED,
    approvalId: confirmation.id,
    message: `your confirmation ${confirmation.id} expired under the live rule's expires (rule ${confirmation.approvalRule}, changed by a policy reload) before the call could run; nothing ran, calling again asks anew`,
  };
}

/**
 * Why the approving rule itself is no longer the one the request was made under (its hash:
 * rule-terms.ts), or null (the same rule, no policy known, a confirmation, or a request with no
 * hash, which no call takes up). Judged by the waiting call after the live policy's own recheck,
 * whose refusal, when there is one, says more.
 */
export function ruleChanged(row: ApprovalRow, policy: CompiledPolicy | undefined): string | null {
  if (!policy || row.confirm !== null || row.ruleHash === null) return null;
  const rule = policy.rules.find((r) => r.id === row.approvalRule);
  if (!rule || row.ruleHash === ruleDigest(rule)) return null;
  return `rule ${row.approvalRule} changed since request ${row.id} was made (policy reload: who, tools, connections or condition blocks); the approval was given for the rule as it was, so it was not run; calling again asks anew under the current rule`;
}
