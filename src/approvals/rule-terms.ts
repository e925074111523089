/**
 * The approving rule's own terms, bound into each request as a canonical hash (`rule_hash`, SQLite
 * v17 / PostgreSQL v14). Why: a request binds the exact call and the rule's approval terms
 * (live-terms.ts), but the rule's scope (who, tools, connections, condition blocks such as a
 * Kubernetes rule's `containers:`) decides what the call may do when it runs (the tools' judges
 * read the live rule); a reload that widens it must not widen what an approval already given runs.
 * A request whose rule hash is not the live rule's is not taken up again (the gate's `fits`), and a
 * call waiting on it is refused, its approvals voided (live-terms.ts ruleChanged). A request stored before the hash
 * existed has none: no call takes it up (the gate's `fits` compares the hash, and null is no
 * hash), so after the upgrade the identical call asks anew, once; as no call can then be waiting
 * on it, deciding it is left as before.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../recorder/index.js';
import type { CompiledPolicy, CompiledRule } from '../policy/types.js';

const DIGESTS = new WeakMap<CompiledRule, string>();

/**
 * The hash of a rule's compiled scope: its effect, `who`, tools, connections (`on`) and condition
 * blocks as compiled (the parsed YAML values, keys in canonical order). Left out: where it is
 * written (file, line), its `reason` text, and its `approval:` block (reviewers and count are
 * judged by staleTerms, `expires` by the live expiry; `wait`, `notify` and `deny_cooldown` do not
 * change what the call runs). Computed only for calls that need approval, once per compiled rule.
 */
export function ruleDigest(rule: CompiledRule): string {
  let d = DIGESTS.get(rule);
  if (d === undefined) {
    const scope = { effect: rule.effect, who: rule.who ?? null, tools: rule.tools ?? null, on: rule.on ?? null, blocks: rule.blocks ?? {} };
    d = `sha256:${createHash('sha256').update(canonicalJson(scope), 'utf8').digest('hex')}`;
    DIGESTS.set(rule, d);
  }
  return d;
}

/** The hash of rule `ruleId` in `policy`, or null (no policy known, or no such rule). */
export function ruleHashOf(policy: CompiledPolicy | undefined, ruleId: string): string | null {
  const rule = policy?.rules.find((r) => r.id === ruleId);
  return rule ? ruleDigest(rule) : null;
}
