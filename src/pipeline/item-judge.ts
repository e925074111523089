/**
 * ExecContext.judge: the decide stage run again, inside execute, on facts the decision could
 * not see beforehand (an event about a pod, judged with that pod's labels; the partitions a
 * parent's read returns and the tables a view reads, judged against the deny rules). The same
 * policy version, principal, tool, connection and arguments as the call; only the facts differ,
 * so the families' own condition blocks stay the one place that judges them.
 */
import { decide, lateDenies } from '../policy/engine.js';
import { approvalRequirements } from '../policy/approval-terms.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { CallJudge, CallView, Principal } from '../tool-api.js';

/**
 * The judge of one call. Why `decided`: an item may lean on the approvals the call itself got,
 * never on another (an item that needs several needs every one of them). Nothing is computed
 * until a tool asks (most calls never do).
 */
export function itemJudge(policy: CompiledPolicy, principal: Principal, call: CallView, decided: Decision): CallJudge {
  let late: ReturnType<CallJudge['denies']> | undefined;
  return {
    call(facts) {
      const d = decide(policy, principal, call, facts);
      if (d.effect === 'deny') return { allowed: false, reason: d.reason, ruleIds: d.ruleIds };
      const got = new Set(approvalRequirements(decided).map((a) => a.ruleId));
      const missing = approvalRequirements(d).filter((a) => !got.has(a.ruleId));
      if (missing.length) {
        const ids = missing.map((a) => a.ruleId);
        return { allowed: false, reason: `rule${ids.length > 1 ? 's' : ''} ${ids.join(', ')} require${ids.length > 1 ? '' : 's'} an approval this call did not get`, ruleIds: ids };
      }
      return { allowed: true, reason: d.reason, ruleIds: d.ruleIds };
    },
    denies() {
      // Worked out once per call: several checks of one call ask (query_database's deny
      // re-check and its statistics guard), and the answer cannot change within it.
      if (late === undefined) {
        const judge = lateDenies(policy, principal, call);
        late = judge
          ? (facts) => {
              const hit = judge(facts);
              return hit ? { allowed: false, reason: hit.reason, ruleIds: hit.ruleIds } : { allowed: true, reason: 'no deny rule matches', ruleIds: [] };
            }
          : null;
      }
      return late;
    },
    grants() {
      // The rules that allowed this call (their ids are the decision's); asked only by a tool that needs them.
      const ids = new Set(decided.effect === 'allow' ? decided.ruleIds : []);
      return policy.rules.filter((r) => r.effect === 'allow' && ids.has(r.id)).map((r) => r.blocks);
    },
  };
}
