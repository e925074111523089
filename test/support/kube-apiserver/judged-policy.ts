/**
 * An ExecContext whose judge is the real `kubernetes:` and `shell:` conditions over a compiled
 * policy (decide()), as the pipeline gives execute; for tool-level tests that need both the
 * decision and the item judgements of one policy.
 */
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../src/policy/load.js';
import { decide } from '../../../src/policy/engine.js';
import type { Decision } from '../../../src/policy/types.js';
import type { ExecContext, Facts, Principal, ToolOutput } from '../../../src/tool-api.js';
import { shellCondition } from '../../../tools/shared/shell/index.js';
import { kubernetesCondition } from '../../../tools/kubernetes/condition.js';
import { kubectlGetTool } from '../../../tools/kubernetes/kubectl-get.js';
import type { TestCluster } from './test-connector.js';

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

/**
 * kubectl_get of `input` on cluster `k` under `rules`, as the pipeline runs it: parsed, asserted
 * allowed by the decision, executed with the policy's judge (the item judgements). Why shared:
 * the read-scope tests all need exactly this.
 */
export async function judgedGet(k: TestCluster, rules: string, input: Record<string, unknown>): Promise<ToolOutput> {
  const policy = judgedPolicy(rules);
  const tool = kubectlGetTool(() => k.connector);
  const facts = await tool.parse(input as never, k.parseCtx);
  assert.equal(policy.decide('kubectl_get', facts).effect, 'allow');
  return tool.execute(input as never, facts, policy.ctx(k.ctx, 'kubectl_get'));
}
