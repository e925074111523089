/**
 * An allow rule as one principal is told it (list_connections' grant lines, the "you may instead
 * use" alternatives of a denial). Why a view per principal: a rule's `tool:` and `on:` are written
 * for everyone it names, and an unconditional deny may keep this principal off some of them; deny
 * wins in discovery too, so the words name only the tools and connections the rule leaves it,
 * never a connection that list_connections and tools/list hide from it.
 */
import type { Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule } from './types.js';
import { whoMatches } from './who.js';

/** What of a rule's scope a principal may use: null means "any" (the rule names none). */
export interface RuleScope {
  tools: string[] | null;
  on: string[] | null;
}

const namesTool = (r: CompiledRule, tool: string | null): boolean => !r.tools || (tool !== null && r.tools.includes(tool));
const namesConnection = (r: CompiledRule, c: string): boolean => !r.on || r.on.includes(c);

/**
 * The tools and connections of `rule` that no unconditional deny covering `p` takes away. A tool
 * is dropped when the denies cover it on every connection the rule names (on any, when it names
 * none); a connection when they cover it for every tool the rule leaves (for any tool, when it
 * names none: only a deny without `tool:` covers that).
 */
export function ruleScopeFor(policy: CompiledPolicy, p: Principal, rule: CompiledRule): RuleScope {
  const denies = policy.rules.filter((r) => r.effect === 'deny' && r.conditions.length === 0 && whoMatches(r, p));
  if (!denies.length) return { tools: rule.tools ?? null, on: rule.on ?? null };
  const covers = (tool: string | null, c: string) => denies.some((d) => namesTool(d, tool) && namesConnection(d, c));
  const everywhere = (tool: string) => denies.some((d) => namesTool(d, tool) && !d.on) || (!!rule.on && rule.on.every((c) => covers(tool, c)));
  const tools = rule.tools ? rule.tools.filter((t) => !everywhere(t)) : null;
  const on = rule.on ? rule.on.filter((c) => (tools ? tools.some((t) => !covers(t, c)) : !covers(null, c))) : null;
  return { tools, on };
}

/** One line saying what an allow rule grants (its whole scope, as written). */
export function describeRule(r: CompiledRule, scope: RuleScope = { tools: r.tools ?? null, on: r.on ?? null }): string {
  const parts = [scope.tools ? scope.tools.join('/') : 'any tool', scope.on ? `on ${scope.on.join(', ')}` : 'on any connection'];
  for (const c of r.conditions) if (c.describe) parts.push(c.describe);
  if (r.approval) parts.push('with approval');
  return parts.join(' ');
}

/** One line saying what an allow rule grants this principal (ruleScopeFor). */
export function describeRuleFor(policy: CompiledPolicy, p: Principal, r: CompiledRule): string {
  return describeRule(r, ruleScopeFor(policy, p, r));
}
