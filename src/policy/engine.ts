/**
 * Evaluate compiled rules against one call. Deny by default; deny wins; approval is an
 * obligation attached to an allow. Every decision names the rules behind it.
 */
import type { CallView, Facts, Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule, Decision, RuleTrace } from './types.js';

/** Does the rule's `who` cover the principal? (omitted = anyone) */
export function whoMatches(rule: Pick<CompiledRule, 'who'>, p: Principal): boolean {
  const w = rule.who;
  if (!w) return true;
  const hasSubjects = !!w.subjects?.length;
  const hasGroups = !!w.groups?.length;
  let ok = !hasSubjects && !hasGroups;
  if (hasSubjects && w.subjects!.includes(p.subject)) ok = true;
  if (hasGroups && w.groups!.some((g) => p.groups.includes(g))) ok = true;
  if (ok && w.claims) {
    for (const [k, want] of Object.entries(w.claims)) {
      const have = p.claims[k];
      const wants = Array.isArray(want) ? want : [want];
      if (typeof have !== 'string' || !wants.includes(have)) return false;
    }
  }
  return ok;
}

/** Does the rule apply to this tool and connection at all? */
export function scopeMatches(rule: CompiledRule, tool: string, connection: string | null): string | null {
  if (rule.tools && !rule.tools.includes(tool)) return `tool ${tool} is not in ${rule.tools.join(', ')}`;
  if (rule.on && (connection === null || !rule.on.includes(connection))) return `connection ${connection ?? '(none)'} is not in ${rule.on.join(', ')}`;
  return null;
}

function evalRule(rule: CompiledRule, p: Principal, call: CallView, facts: Facts | null): RuleTrace {
  const t = (matched: boolean, why: string): RuleTrace => ({ id: rule.id, effect: rule.effect, matched, why });
  if (!whoMatches(rule, p)) return t(false, `principal ${p.subject} is not in who`);
  const scope = scopeMatches(rule, call.tool, call.connection);
  if (scope) return t(false, scope);
  const whys: string[] = [];
  for (const c of rule.conditions) {
    if (!facts || !c.families.includes(facts.family)) return t(false, `${c.key}: does not apply to ${facts ? facts.family : 'this'} calls`);
    const r = c.fn(facts, call);
    if (!r.matched) return t(false, `${c.key}: ${r.why}`);
    whys.push(`${c.key}: ${r.why}`);
  }
  return t(true, whys.length ? whys.join('; ') : 'who, tool and connection match');
}

/** Decide one call. `facts` is null for calls that could not be parsed (they are denied earlier). */
export function decide(policy: CompiledPolicy, p: Principal, call: CallView, facts: Facts | null): Decision {
  const trace = policy.rules.map((r) => evalRule(r, p, call, facts));
  const denies = trace.filter((t) => t.matched && t.effect === 'deny');
  const alternatives = alternativesFor(policy, p, call.tool);
  if (denies.length) {
    const first = policy.rules.find((r) => r.id === denies[0]!.id)!;
    return { effect: 'deny', ruleIds: denies.map((d) => d.id), reason: first.reason ?? `denied by rule ${first.id}: ${denies[0]!.why}`, trace, alternatives };
  }
  const allows = trace.filter((t) => t.matched && t.effect === 'allow');
  if (!allows.length) {
    const near = trace.find((t) => t.effect === 'allow' && /^(sql|shell|kubernetes):/.test(t.why));
    return { effect: 'deny', ruleIds: [], reason: `no rule allows this call${near ? ` (closest: ${near.id}: ${near.why})` : ''}`, trace, alternatives };
  }
  // Obligations combine: if any matching allow carries an approval, the call needs it (safer choice; documented).
  const withApproval = policy.rules.find((r) => r.approval && allows.some((a) => a.id === r.id));
  return {
    effect: 'allow',
    ruleIds: allows.map((a) => a.id),
    reason: `allowed by ${allows.map((a) => a.id).join(', ')}`,
    ...(withApproval ? { approval: { ...withApproval.approval!, ruleId: withApproval.id } } : {}),
    trace,
    alternatives,
  };
}

/** Allow rules this principal could use for a tool, as short sentences. */
export function alternativesFor(policy: CompiledPolicy, p: Principal, tool: string): string[] {
  return policy.rules
    .filter((r) => r.effect === 'allow' && whoMatches(r, p) && (!r.tools || r.tools.includes(tool)))
    .map((r) => `${r.id}: ${describeRule(r)}`);
}

/** One line saying what an allow rule grants. */
export function describeRule(r: CompiledRule): string {
  const parts = [r.tools ? r.tools.join('/') : 'any tool', r.on ? `on ${r.on.join(', ')}` : 'on any connection'];
  for (const c of r.conditions) if (c.describe) parts.push(c.describe);
  if (r.approval) parts.push('with approval');
  return parts.join(' ');
}

/** Tools some allow rule could grant this principal (discovery shows only these). */
export function visibleTools(policy: CompiledPolicy, p: Principal, all: string[]): string[] {
  const allows = policy.rules.filter((r) => r.effect === 'allow' && whoMatches(r, p));
  return all.filter((t) => allows.some((r) => !r.tools || r.tools.includes(t)));
}

/**
 * Decide a discovery tool (describe_database): allowed where some allow rule grants `forTool`
 * on this connection to this principal, unless a deny rule names the discovery tool itself.
 */
export function decideDiscovery(policy: CompiledPolicy, p: Principal, call: CallView, forTool: string): Decision & { grants: Record<string, unknown>[] } {
  const alternatives = alternativesFor(policy, p, forTool);
  const denies = policy.rules.filter((r) => r.effect === 'deny' && r.conditions.length === 0 && whoMatches(r, p) && !scopeMatches(r, call.tool, call.connection) && r.tools?.includes(call.tool));
  if (denies.length) {
    return { effect: 'deny', ruleIds: denies.map((d) => d.id), reason: denies[0]!.reason ?? `denied by rule ${denies[0]!.id}`, trace: [], alternatives, grants: [] };
  }
  const allows = policy.rules.filter((r) => r.effect === 'allow' && whoMatches(r, p) && !scopeMatches(r, forTool, call.connection));
  if (!allows.length) return { effect: 'deny', ruleIds: [], reason: `no rule grants ${forTool} on this connection`, trace: [], alternatives, grants: [] };
  return { effect: 'allow', ruleIds: allows.map((r) => r.id), reason: `discovery for ${forTool}`, trace: [], alternatives, grants: allows.map((r) => r.blocks) };
}

/** Connections some allow rule could grant this principal for a tool. */
export function visibleConnections(policy: CompiledPolicy, p: Principal, tool: string, candidates: string[]): string[] {
  const allows = policy.rules.filter((r) => r.effect === 'allow' && whoMatches(r, p) && (!r.tools || r.tools.includes(tool)));
  return candidates.filter((c) => allows.some((r) => !r.on || r.on.includes(c)));
}
