/**
 * Evaluate compiled rules against one call. Deny by default; deny wins; approval is an
 * obligation attached to an allow. Every decision names the rules behind it.
 *
 * Deny wins in discovery too (DESIGN.md principle 5). The exact rule:
 *
 * - An *unconditional* deny is a deny rule with no condition block (only who / tool / on). It
 *   *covers* (principal P, tool T, connection C) when its `who` matches P, it has no `tool` or
 *   names T, and it has no `on` or names C. It overrides every allow for that triple, so:
 *   - visibleTools (tools/list) shows T only if some allow for P and T applies to a connection
 *     that no unconditional deny covers. An allow without `on` applies to an open set of
 *     connections, so only a deny without `on` covers all of it; an allow with `on` is covered
 *     when every connection it names is covered by some deny (the union counts). Calls are
 *     admitted by grantableTools (allows only), so a call to a hidden tool is still decided and
 *     answered WARDEN_DENIED with the deny's id, not UNKNOWN_TOOL.
 *   - visibleConnections shows C for T only if some allow for P and T applies to C and no
 *     unconditional deny covers (P, T, C).
 *   - decideDiscovery (describe_database for `forTool` on C) refuses with the deny's id when an
 *     unconditional deny covers (P, forTool, C) or (P, the discovery tool itself, C).
 *   - alternativesFor never offers an allow that unconditional denies cover on every connection
 *     it applies to, nor, when the call's connection is known, one that applies to that
 *     connection while a deny covers it there.
 * - A *conditional* deny (with a condition block, e.g. `sql: { read: [public.secrets] }`) only
 *   matches some calls, so it hides no tool or connection. Instead:
 *   - decideDiscovery hands the blocks of every conditional deny whose who/tool/on covers
 *     (P, forTool, C) to the discovery tool, on each grant under DISCOVERY_DENIES_KEY; the tool
 *     removes what it can determine from them (describe_database: see grantedTables) and
 *     describes the rest as before.
 *   - decide never offers, as an alternative, an allow rule that matched this exact call when a
 *     deny matched it too: the deny overrides that grant for this call.
 *   - A conditional deny that matched only on facts the tool could not learn (ConditionResult
 *     presumed: an absent pod's labels count as inside every deny) overrides a matching allow,
 *     but names no rule when no allow matched: the call is refused as "no rule allows" then, as
 *     a present object outside every allow is, so the rule ids do not tell which exists.
 * Rules are partitioned once per compiled policy (rule-index.ts; policies are immutable), so each
 * discovery check is a scan of the principal's allows and denies, with no condition evaluated.
 */
import type { CallView, Facts, Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule, Decision, RuleTrace } from './types.js';
import { whoMatches } from './who.js';
import { actorChain } from './actors.js';
import { requirementsOf } from './approval-terms.js';
import { judgesFamily } from './rule-families.js';
import { indexOf, inScope } from './rule-index.js';
import { alternativesFor } from './discovery-grants.js';

/** Who-matching lives in who.ts (allows exact, denies generous); re-exported for the pipeline, approvals and UI. */
export { whoMatches } from './who.js';
/** Rules described to a principal live in rule-view.ts; re-exported for the builtins. */
export { describeRule, describeRuleFor, ruleScopeFor } from './rule-view.js';
/** Which tools a rule's blocks can judge live in rule-families.ts; re-exported for the pipeline and builtins. */
export { familiesOf, type FamilyOf } from './rule-families.js';
/** Discovery (tools/list, list_connections, describe_database) lives in discovery-grants.ts; re-exported for the pipeline, builtins and tests. */
export { alternativesFor, decideDiscovery, grantableOn, grantableTools, grantsTool, visibleConnections, visibleTools } from './discovery-grants.js';

/** Does the rule apply to this tool and connection at all? Null when it does, else why not. */
function scopeMatches(rule: CompiledRule, tool: string, connection: string | null): string | null {
  if (rule.tools && !rule.tools.includes(tool)) return `tool ${tool} is not in ${rule.tools.join(', ')}`;
  if (rule.on && (connection === null || !rule.on.includes(connection))) return `connection ${connection ?? '(none)'} is not in ${rule.on.join(', ')}`;
  return null;
}

/**
 * Why `who` does not cover the principal, for the trace. When only `actors:` fails (the subjects,
 * groups and claims match), the words name the actor chain, not the principal.
 */
function whoMiss(rule: CompiledRule, p: Principal): string {
  const w = rule.who;
  if (w?.actors && whoMatches({ effect: rule.effect, who: { ...w, actors: undefined } }, p)) {
    const chain = actorChain(p.claims);
    if (!chain.length) return `principal ${p.subject} acts directly, and who.actors admits only calls delegated through ${w.actors.join(', ')}`;
    return rule.effect === 'deny'
      ? `no actor of the chain (${chain.join(' <- ')}) is in who.actors`
      : `the actor chain (${chain.join(' <- ')}) is not all within who.actors (${w.actors.join(', ')})`;
  }
  return `principal ${p.subject} is not in who`;
}

function evalRule(rule: CompiledRule, p: Principal, call: CallView, facts: Facts | null): RuleTrace {
  const t = (matched: boolean, why: string, presumed = false): RuleTrace => ({ id: rule.id, effect: rule.effect, matched, why, ...(presumed ? { presumed } : {}) });
  if (!whoMatches(rule, p)) return t(false, whoMiss(rule, p));
  const scope = scopeMatches(rule, call.tool, call.connection);
  if (scope) return t(false, scope);
  const whys: string[] = [];
  let presumed = false;
  for (const c of rule.conditions) {
    if (!facts || !c.families.includes(facts.family)) return t(false, `${c.key}: does not apply to ${facts ? facts.family : 'this'} calls`);
    const r = c.fn(facts, call);
    if (!r.matched) return t(false, `${c.key}: ${r.why}`);
    whys.push(`${c.key}: ${r.why}`);
    presumed ||= rule.effect === 'deny' && r.presumed === true;
  }
  return t(true, whys.length ? whys.join('; ') : 'who, tool and connection match', presumed);
}

/**
 * Decide one call. `facts` is null for calls that could not be parsed (they are denied earlier).
 * Alternatives are worked out for a deny only: an allowed call (the hot path) is told none.
 */
export function decide(policy: CompiledPolicy, p: Principal, call: CallView, facts: Facts | null): Decision {
  const trace = policy.rules.map((r) => evalRule(r, p, call, facts));
  // The call's facts family: a rule with a block that cannot judge it is neither an alternative nor "closest".
  const family = facts ? facts.family : null;
  const allows = trace.filter((t) => t.matched && t.effect === 'allow');
  // A deny matched only on unknown facts counts against a matching allow; without one the call
  // is refused as no rule allowing it (ConditionResult.presumed: an absent object and a present
  // one outside every allow get the same refusal).
  const denies = trace.filter((t) => t.matched && t.effect === 'deny' && (allows.length > 0 || !t.presumed));
  if (denies.length) {
    const first = policy.rules.find((r) => r.id === denies[0]!.id)!;
    // An allow that matched this call is overridden for it by the deny: never offer it.
    const alternatives = alternativesFor(policy, p, call.tool, call.connection, allows.map((a) => a.id), family);
    return { effect: 'deny', ruleIds: denies.map((d) => d.id), reason: first.reason ?? `denied by rule ${first.id}: ${denies[0]!.why}`, trace, alternatives };
  }
  if (!allows.length) {
    const near = trace.find((t, i) => t.effect === 'allow' && /^(sql|shell|kubernetes):/.test(t.why) && judgesFamily(policy.rules[i]!, family));
    return { effect: 'deny', ruleIds: [], reason: `no rule allows this call${near ? ` (closest: ${near.id}: ${near.why})` : ''}`, trace, alternatives: alternativesFor(policy, p, call.tool, call.connection, [], family) };
  }
  // Obligations combine: the call needs the approval of every matching allow that carries one,
  // not just the first in file order (the safer choice; approval-terms.ts, README "Approvals").
  const approvals = requirementsOf(policy.rules.filter((r) => r.approval && allows.some((a) => a.id === r.id)));
  return {
    effect: 'allow',
    ruleIds: allows.map((a) => a.id),
    reason: `allowed by ${allows.map((a) => a.id).join(', ')}`,
    ...(approvals.length ? { approvals, approval: approvals[0]! } : {}),
    trace,
    alternatives: [],
  };
}

/**
 * The deny check a tool runs on facts it learns after the decision (ExecContext.judge.denies, src/pipeline/item-judge.ts):
 * the conditional denies whose who, tool and connection cover the call, judged on the new facts.
 * Null when there are none (unconditional denies were decided already), so the tool need not
 * look. Allow rules are not judged again: a grant was decided on what the call names, and only a
 * deny widens with what it turns out to reach (tools/postgres/widened-denies.ts).
 */
export function lateDenies(policy: CompiledPolicy, p: Principal, call: CallView): ((facts: Facts) => { ruleIds: string[]; reason: string } | null) | null {
  const rules = indexOf(policy).conditionalDenies.filter((r) => whoMatches(r, p) && inScope(r, call.tool, call.connection));
  if (!rules.length) return null;
  return (facts) => {
    const hits = rules.map((r) => ({ rule: r, trace: evalRule(r, p, call, facts) })).filter((h) => h.trace.matched);
    const first = hits[0];
    if (!first) return null;
    return { ruleIds: hits.map((h) => h.rule.id), reason: first.rule.reason ?? `denied by rule ${first.rule.id}: ${first.trace.why}` };
  };
}


/** A who block that names somebody (subjects, groups or claims), not an empty one. */
function hasWho(w: NonNullable<CompiledRule['who']>): boolean {
  return Boolean(w.subjects?.length || w.groups?.length || (w.claims && Object.keys(w.claims).length));
}

/**
 * Whether a principal reviews anything under this policy: some rule's approval names it among its
 * reviewers (an approval without `reviewers` lets anyone but the requester decide from the CLI,
 * and makes nobody a UI reviewer). Why: the
 * reviewer UI shows every principal's transcripts, so signing in with a token is for reviewers
 * (and admins), not for any agent whose token the issuer also signed.
 */
export function reviewsAnything(policy: CompiledPolicy, p: Principal): boolean {
  // Only rules that name their reviewers count: an approval without `reviewers:` may be given by
  // anyone but the requester (from the CLI on the machine that holds the config), but it does not
  // make every token holder a UI reviewer, who could then read every principal's transcripts.
  return policy.rules.some((r) => r.approval?.reviewers !== undefined && hasWho(r.approval.reviewers) && whoMatches({ who: r.approval.reviewers }, p));
}
