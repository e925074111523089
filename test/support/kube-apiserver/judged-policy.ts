/**
 * An ExecContext whose judge is the real `kubernetes:` and `shell:` conditions over a compiled
 * policy (decide()), as the pipeline gives execute; for tool-level tests that need both the
 * decision and the item judgements of one policy.
 */
import { compilePolicy } from '../../../src/policy/load.js';
import { decide } from '../../../src/policy/engine.js';
import type { Decision } from '../../../src/policy/types.js';
import type { ExecContext, Facts, Principal } from '../../../src/tool-api.js';
import { shellCondition } from '../../../tools/shared/shell/index.js';
import { kubernetesCondition } from '../../../tools/kubernetes/condition.js';

const principal: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'stdio' };

/** The decision of `tool` on `facts`, and a context for its execute, under `rules` (YAML list items). */
export function judgedPolicy(rules: string) {
  const policy = compilePolicy(['p.yaml'], [kubernetesCondition, shellCondition], { 'p.yaml': `rules:\n${rules}` });
  return {
    decide: (tool: string, facts: Facts): Decision => decide(policy, principal, { tool, connection: 'prod', args: {} }, facts),
    ctx(base: ExecContext, tool: string): ExecContext {
      return {
        ...base,
        judge: {
          call(facts: Facts) {
            const d = decide(policy, principal, { tool, connection: 'prod', args: {} }, facts);
            return { allowed: d.effect === 'allow', reason: d.reason, ruleIds: d.ruleIds };
          },
          denies: () => null,
        },
      } as ExecContext;
    },
  };
}
