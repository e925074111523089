/**
 * How the pipeline decides a call under a given policy: the decide stage, and the approval gate's
 * recheck under the live policy after a reload (pipeline.ts), judge alike through decideUnder.
 */
import type { CallView } from '../tool-api.js';
import { decide, decideDiscovery } from '../policy/engine.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { CallState } from './call-state.js';

/** The decision (and a discovery tool's grants) for the call under `policy`; why: decide and the approval recheck judge alike. */
export function decideUnder(policy: CompiledPolicy, s: CallState): { decision: Decision; grants?: Record<string, unknown>[] } {
  const call: CallView = { tool: s.tool!.name, connection: s.connection?.name ?? null, args: s.input! };
  if (s.tool!.connectionTypes === null) return { decision: builtinDecision(s.tool!.name) };
  if (s.tool!.discoveryFor) {
    const d = decideDiscovery(policy, s.principal!, call, s.tool!.discoveryFor);
    return { decision: d, grants: d.grants };
  }
  return { decision: decide(policy, s.principal!, call, s.facts!) };
}

/**
 * Why the approvals a call waited on no longer cover what the live policy asks, or null: every
 * approval the live decision needs must be one of them, with terms no looser (same rule id; the
 * gate's stale-terms check compares the stored reviewers and count).
 */
export function missingApprovals(had: readonly { ruleId: string }[], live: readonly { ruleId: string }[]): string | null {
  const ids = new Set(had.map((n) => n.ruleId));
  const missing = live.filter((n) => !ids.has(n.ruleId)).map((n) => n.ruleId);
  return missing.length
    ? `the policy was reloaded while the call waited for approval, and it now also needs the approval of rule ${missing.join(', ')}; calling again asks anew under the current terms`
    : null;
}

/** Built-in tools (list_connections, approval_status) are visible to everyone and decide for themselves. */
function builtinDecision(tool: string): Decision {
  return { effect: 'allow', ruleIds: [`builtin:${tool}`], reason: 'built-in discovery tool', trace: [], alternatives: [] };
}
