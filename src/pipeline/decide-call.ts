/**
 * How the pipeline decides a call under a given policy: the decide stage, and the approval gate's
 * recheck under the live policy after a reload (pipeline.ts), judge alike through decideUnder.
 */
import type { CallView } from '../tool-api.js';
import { decideToolCall } from '../policy/decide-tool.js';
import type { ApprovalRequirement, CompiledPolicy, Decision } from '../policy/types.js';
import { canonicalJson } from '../recorder/index.js';
import type { CallState } from './call-state.js';

/** The decision (and a discovery tool's grants) for the call under `policy`; why: decide and the approval recheck judge alike. */
export function decideUnder(policy: CompiledPolicy, s: CallState): { decision: Decision; grants?: Record<string, unknown>[] } {
  const call: CallView = { tool: s.tool!.name, connection: s.connection?.name ?? null, args: s.input! };
  if (s.tool!.connectionTypes === null) return { decision: builtinDecision(s.tool!.name) };
  return decideToolCall(policy, s.principal!, s.tool!, call, s.facts!);
}

/**
 * Why the approvals a call waited on no longer cover what the live policy asks, or null: every
 * approval the live decision needs must be one of them (same rule id) with terms no looser: the
 * requester's confirmation when the live rule asks for it, and the same reviewers with no fewer
 * approvals when it asks reviewers. Why the terms too: the gate asked only what the old decision
 * needed, so a rule that now also (or instead) asks a reviewer, or now asks the requester to
 * confirm, was never asked (a confirmation has no stored reviewer terms for the gate's
 * stale-terms check to compare).
 */
export function missingApprovals(had: readonly ApprovalRequirement[], live: readonly ApprovalRequirement[]): string | null {
  const byId = new Map(had.map((n) => [n.ruleId, n]));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const n of live) {
    const h = byId.get(n.ruleId);
    if (!h) missing.push(n.ruleId);
    else {
      const why = tightenedTerms(h, n);
      if (why) changed.push(`rule ${n.ruleId} ${why}`);
    }
  }
  if (missing.length) {
    return `the policy was reloaded while the call waited for approval, and it now also needs the approval of rule ${missing.join(', ')}; calling again asks anew under the current terms`;
  }
  return changed.length
    ? `the policy was reloaded while the call waited for approval, and its approval terms changed (${changed.join('; ')}); calling again asks anew under the current terms`
    : null;
}

/** How the live terms ask more than those the call waited on, or null. */
function tightenedTerms(had: ApprovalRequirement, live: ApprovalRequirement): string | null {
  if (live.confirm === 'requester' && had.confirm !== 'requester') return 'now asks the requester to confirm';
  if (!live.reviewers) return null;
  if (!had.reviewers) return 'now asks reviewers for approval';
  if (canonicalJson(had.reviewers) !== canonicalJson(live.reviewers)) return 'changed its reviewers';
  return live.approvals > had.approvals ? `now needs ${live.approvals} approvals` : null;
}

/** Built-in tools (list_connections, approval_status) are visible to everyone and decide for themselves. */
function builtinDecision(tool: string): Decision {
  return { effect: 'allow', ruleIds: [`builtin:${tool}`], reason: 'built-in discovery tool', trace: [], alternatives: [] };
}
