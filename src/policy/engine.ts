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
 * Rules are partitioned once per compiled policy (a WeakMap; policies are immutable), so each
 * discovery check is a scan of the principal's allows and denies, with no condition evaluated.
 */
import type { CallView, Facts, Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule, Decision, RuleTrace } from './types.js';
import { whoMatches } from './who.js';
import { actorChain } from './actors.js';
import { requirementsOf } from './approval-terms.js';
import { describeRuleFor } from './rule-view.js';
import { judgesFamily, type FamilyOf } from './rule-families.js';

/** Who-matching lives in who.ts (allows exact, denies generous); re-exported for the pipeline, approvals and UI. */
export { whoMatches } from './who.js';
/** Rules described to a principal live in rule-view.ts; re-exported for the builtins. */
export { describeRule, describeRuleFor, ruleScopeFor } from './rule-view.js';
/** Which tools a rule's blocks can judge live in rule-families.ts; re-exported for the pipeline and builtins. */
export { familiesOf, type FamilyOf } from './rule-families.js';

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
 * Key under which decideDiscovery puts, on each grant, the condition blocks of the conditional
 * deny rules that apply to the discovered tool on that connection (an array of block records).
 * Discovery tools read it by this literal name (tools may import only src/tool-api.ts).
 */
const DISCOVERY_DENIES_KEY = '$denies';

/** The policy's rules by role, computed once per compiled policy. */
interface RuleIndex {
  allows: CompiledRule[];
  /** Deny rules without conditions: they override every allow they cover. */
  unconditionalDenies: CompiledRule[];
  /** Deny rules with conditions: they override an allow only for the calls they match. */
  conditionalDenies: CompiledRule[];
}

const indexes = new WeakMap<CompiledPolicy, RuleIndex>();

function indexOf(policy: CompiledPolicy): RuleIndex {
  let ix = indexes.get(policy);
  if (!ix) {
    ix = { allows: [], unconditionalDenies: [], conditionalDenies: [] };
    for (const r of policy.rules) {
      if (r.effect === 'allow') ix.allows.push(r);
      else (r.conditions.length ? ix.conditionalDenies : ix.unconditionalDenies).push(r);
    }
    indexes.set(policy, ix);
  }
  return ix;
}

const namesTool = (r: CompiledRule, tool: string): boolean => !r.tools || r.tools.includes(tool);
const namesConnection = (r: CompiledRule, connection: string | null): boolean => !r.on || (connection !== null && r.on.includes(connection));
/** scopeMatches as a yes/no, without building the reason. */
const inScope = (r: CompiledRule, tool: string, connection: string | null): boolean => namesTool(r, tool) && namesConnection(r, connection);

/** Unconditional denies whose who and tool cover (p, tool), on any connection. */
function blanketsFor(policy: CompiledPolicy, p: Principal, tool: string): CompiledRule[] {
  return indexOf(policy).unconditionalDenies.filter((r) => whoMatches(r, p) && namesTool(r, tool));
}

/** Do these (unconditional, already who/tool-matched) denies cover every connection the allow applies to? */
function coversEverywhere(denies: CompiledRule[], allow: CompiledRule): boolean {
  if (!denies.length) return false;
  if (denies.some((d) => !d.on)) return true;
  if (!allow.on) return false;
  return allow.on.every((c) => denies.some((d) => d.on!.includes(c)));
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

/**
 * Allow rules this principal could use for a tool, as short sentences naming only the tools and
 * connections no unconditional deny takes from it (rule-view.ts); never one a deny
 * overrides (see the rule at the top): not one unconditional denies cover everywhere it applies,
 * not one covered on `connection` when the call's connection is given, and none of `overridden`
 * (allows a matching deny overrides for the exact call); and, when `family` (the tool's facts
 * family; null: unknown) is given, none with a block that cannot judge such calls: a `shell:`-only
 * rule never grants query_database (evalRule), so offering it for one pointed at no way in.
 */
export function alternativesFor(policy: CompiledPolicy, p: Principal, tool: string, connection?: string | null, overridden: readonly string[] = [], family?: string | null): string[] {
  const blankets = blanketsFor(policy, p, tool);
  const here = connection === undefined ? [] : blankets.filter((d) => namesConnection(d, connection));
  return indexOf(policy)
    .allows.filter((r) => whoMatches(r, p) && namesTool(r, tool) && !overridden.includes(r.id) && (family === undefined || judgesFamily(r, family)))
    .filter((r) => !coversEverywhere(blankets, r) && !(here.length && namesConnection(r, connection ?? null)))
    .map((r) => `${r.id}: ${describeRuleFor(policy, p, r)}`);
}

/**
 * Could this allow rule ever grant `tool`? It names it, and each of its blocks judges the tool's
 * calls (a `shell:` block never matches a query_database call: evalRule). Why: discovery read
 * "no `tool:`" as "every tool", so a shell-only grant listed every database by name.
 */
export function grantsTool(r: CompiledRule, tool: string, familyOf?: FamilyOf): boolean {
  if (!namesTool(r, tool)) return false;
  const family = familyOf?.(tool);
  return family === undefined || judgesFamily(r, family);
}

/** Tools some allow rule could grant this principal somewhere no unconditional deny covers (discovery shows only these). */
export function visibleTools(policy: CompiledPolicy, p: Principal, all: string[], familyOf?: FamilyOf): string[] {
  const allows = indexOf(policy).allows.filter((r) => whoMatches(r, p));
  if (!allows.length) return [];
  return all.filter((t) => {
    const blankets = blanketsFor(policy, p, t);
    return allows.some((r) => grantsTool(r, t, familyOf) && !coversEverywhere(blankets, r));
  });
}

/**
 * Tools some allow rule could grant this principal, before any deny. Calls to these must reach
 * the decision (so a deny answers WARDEN_DENIED with its rule id, and is recorded as a deny),
 * even when visibleTools leaves them out of tools/list; calls to any other tool are unknown.
 */
export function grantableTools(policy: CompiledPolicy, p: Principal, all: string[], familyOf?: FamilyOf): string[] {
  const allows = indexOf(policy).allows.filter((r) => whoMatches(r, p));
  return all.filter((t) => allows.some((r) => grantsTool(r, t, familyOf)));
}

/**
 * Decide a discovery tool (describe_database): allowed where some allow rule grants `forTool`
 * on this connection to this principal, each of its blocks judging `forFamily` (forTool's facts
 * family; null: no rule with a block counts), and no unconditional deny covers `forTool` (or the
 * discovery tool) there. The grants are the allows' condition blocks; conditional denies that
 * apply to `forTool` on this connection ride along on each under DISCOVERY_DENIES_KEY.
 */
export function decideDiscovery(policy: CompiledPolicy, p: Principal, call: CallView, forTool: string, forFamily: string | null): Decision & { grants: Record<string, unknown>[] } {
  const alternatives = (): string[] => alternativesFor(policy, p, forTool, call.connection, [], forFamily);
  const ix = indexOf(policy);
  const denies = ix.unconditionalDenies.filter((r) => whoMatches(r, p) && (inScope(r, forTool, call.connection) || inScope(r, call.tool, call.connection)));
  if (denies.length) {
    return { effect: 'deny', ruleIds: denies.map((d) => d.id), reason: denies[0]!.reason ?? `denied by rule ${denies[0]!.id}`, trace: [], alternatives: alternatives(), grants: [] };
  }
  // An allow with a block that cannot judge forTool's calls (a `shell:` block, no `tool:`) never grants
  // forTool, so it grants no discovery of it either: read as "no sql: block", it described every table.
  const allows = ix.allows.filter((r) => whoMatches(r, p) && inScope(r, forTool, call.connection) && judgesFamily(r, forFamily));
  if (!allows.length) return { effect: 'deny', ruleIds: [], reason: `no rule grants ${forTool} on this connection`, trace: [], alternatives: alternatives(), grants: [] };
  const narrowing = ix.conditionalDenies.filter((r) => whoMatches(r, p) && inScope(r, forTool, call.connection));
  const denied = narrowing.map((r) => r.blocks);
  return {
    effect: 'allow',
    ruleIds: allows.map((r) => r.id),
    reason: `discovery for ${forTool}${narrowing.length ? ` (narrowed by ${narrowing.map((r) => r.id).join(', ')})` : ''}`,
    trace: [],
    alternatives: [],
    grants: allows.map((r) => (denied.length ? { ...r.blocks, [DISCOVERY_DENIES_KEY]: denied } : r.blocks)),
  };
}

/**
 * Whether some allow rule could grant this principal `tool` on `connection`, before any deny.
 * Why: like grantableTools for tools, a call naming any other connection is answered as if the
 * connection did not exist, so a principal cannot learn which connections others may reach.
 */
export function grantableOn(policy: CompiledPolicy, p: Principal, tool: string, connection: string, familyOf?: FamilyOf): boolean {
  return indexOf(policy).allows.some((r) => whoMatches(r, p) && grantsTool(r, tool, familyOf) && namesConnection(r, connection));
}

/** Connections some allow rule could grant this principal for a tool, minus those an unconditional deny covers. */
export function visibleConnections(policy: CompiledPolicy, p: Principal, tool: string, candidates: string[], familyOf?: FamilyOf): string[] {
  const allows = indexOf(policy).allows.filter((r) => whoMatches(r, p) && grantsTool(r, tool, familyOf));
  if (!allows.length) return [];
  const blankets = blanketsFor(policy, p, tool);
  return candidates.filter((c) => allows.some((r) => namesConnection(r, c)) && !blankets.some((d) => namesConnection(d, c)));
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
