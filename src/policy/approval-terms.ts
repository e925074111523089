/**
 * How the approvals of several matching allow rules combine (fail closed: the stricter terms are
 * never dropped because a looser rule comes first in the policy files):
 * - every matching rule's approval is required, each its own request with that rule's reviewers
 *   and count, all bound to the same canonical call (the approval service creates them at once);
 * - every request of the combination expires no later than the shortest matching `expires`;
 * - the call waits for all of them together, at most the shortest matching `wait`.
 * Why a module: the engine builds the list, and the pipeline, the approval service, item judging
 * and explain read it the same way.
 */
import type { ApprovalRequirement, CompiledRule, Decision } from './types.js';

/** The approval requirements of the matching allow rules, in policy file order. */
export function requirementsOf(matchingAllows: readonly CompiledRule[]): ApprovalRequirement[] {
  return matchingAllows.filter((r) => r.approval).map((r) => ({ ...r.approval!, ruleId: r.id }));
}

/** Every approval a decision needs (a decision built with only `approval` needs that one). */
export function approvalRequirements(d: Pick<Decision, 'approval' | 'approvals'>): ApprovalRequirement[] {
  return d.approvals?.length ? d.approvals : d.approval ? [d.approval] : [];
}

/** The combination's timing: the shortest `expires` and the shortest `wait` of its requirements. */
export function combinedTiming(needs: readonly ApprovalRequirement[]): { expires: number; wait: number } {
  return { expires: Math.min(...needs.map((n) => n.expires)), wait: Math.min(...needs.map((n) => n.wait)) };
}

/** "approval 2 of 3 (rule fix)", or "approval (rule fix)" when it is the only one. */
export function requirementLabel(ruleId: string, index: number, of: number): string {
  return of > 1 ? `approval ${index + 1} of ${of} (rule ${ruleId})` : `approval (rule ${ruleId})`;
}
