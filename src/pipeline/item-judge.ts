/**
 * ExecContext.judge: the decide stage run again, inside execute, for one item of an answer the
 * decision could not see beforehand (an event about a pod, judged with that pod's labels). The
 * same policy version, principal, tool, connection and arguments as the call; only the facts
 * differ, so the family's own condition blocks stay the one place that judges them.
 */
import { decide } from '../policy/engine.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { CallView, Facts, ItemJudgement, Principal } from '../tool-api.js';

/** The judge of one call. Why `decided`: an item may lean on the approval the call itself got, never on another. */
export function itemJudge(policy: CompiledPolicy, principal: Principal, call: CallView, decided: Decision): (facts: Facts) => ItemJudgement {
  return (facts) => {
    const d = decide(policy, principal, call, facts);
    if (d.effect === 'deny') return { allowed: false, reason: d.reason, ruleIds: d.ruleIds };
    if (d.approval && d.approval.ruleId !== decided.approval?.ruleId) {
      return { allowed: false, reason: `rule ${d.approval.ruleId} requires an approval this call did not get`, ruleIds: [d.approval.ruleId] };
    }
    return { allowed: true, reason: d.reason, ruleIds: d.ruleIds };
  };
}
