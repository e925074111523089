/**
 * The policy's rules by role, partitioned once per compiled policy (a WeakMap; policies are
 * immutable), and the scope tests without a reason: what the engine (engine.ts) and discovery
 * (discovery-grants.ts) scan, so each discovery check evaluates no condition.
 */
import type { Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule } from './types.js';
import { whoMatches } from './who.js';

/** The policy's rules by role, computed once per compiled policy. */
export interface RuleIndex {
  allows: CompiledRule[];
  /** Deny rules without conditions: they override every allow they cover. */
  unconditionalDenies: CompiledRule[];
  /** Deny rules with conditions: they override an allow only for the calls they match. */
  conditionalDenies: CompiledRule[];
}

const indexes = new WeakMap<CompiledPolicy, RuleIndex>();

/** The policy's RuleIndex, built on first use and kept while the policy lives. */
export function indexOf(policy: CompiledPolicy): RuleIndex {
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

/** The rule has no `tool` or names `tool`. */
export const namesTool = (r: CompiledRule, tool: string): boolean => !r.tools || r.tools.includes(tool);
/** The rule has no `on` or names `connection`. */
export const namesConnection = (r: CompiledRule, connection: string | null): boolean => !r.on || (connection !== null && r.on.includes(connection));
/** engine.ts scopeMatches as a yes/no, without building the reason. */
export const inScope = (r: CompiledRule, tool: string, connection: string | null): boolean => namesTool(r, tool) && namesConnection(r, connection);

/** Unconditional denies whose who and tool cover (p, tool), on any connection. */
export function blanketsFor(policy: CompiledPolicy, p: Principal, tool: string): CompiledRule[] {
  return indexOf(policy).unconditionalDenies.filter((r) => whoMatches(r, p) && namesTool(r, tool));
}

/** Do these (unconditional, already who/tool-matched) denies cover every connection the allow applies to? */
export function coversEverywhere(denies: CompiledRule[], allow: CompiledRule): boolean {
  if (!denies.length) return false;
  if (denies.some((d) => !d.on)) return true;
  if (!allow.on) return false;
  return allow.on.every((c) => denies.some((d) => d.on!.includes(c)));
}
