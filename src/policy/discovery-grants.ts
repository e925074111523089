/**
 * Discovery and the grants it reads (the rule at the top of engine.ts: deny wins in discovery
 * too): which tools and connections a principal sees or may call, the allow rules offered as
 * alternatives, and decideDiscovery for describe_database. Re-exported by engine.ts.
 */
import type { CallView, Principal } from '../tool-api.js';
import type { CompiledPolicy, CompiledRule, Decision } from './types.js';
import { whoMatches } from './who.js';
import { describeRuleFor } from './rule-view.js';
import { judgesFamily, type FamilyOf } from './rule-families.js';
import { blanketsFor, coversEverywhere, indexOf, inScope, namesConnection, namesTool } from './rule-index.js';

/**
 * Key under which decideDiscovery puts, on each grant, the condition blocks of the conditional
 * deny rules that apply to the discovered tool on that connection (an array of block records).
 * Discovery tools read it by this literal name (tools may import only src/tool-api.ts).
 */
const DISCOVERY_DENIES_KEY = '$denies';

/**
 * Allow rules this principal could use for a tool, as short sentences naming only the tools and
 * connections no unconditional deny takes from it (rule-view.ts); never one a deny
 * overrides (see the rule at the top of engine.ts): not one unconditional denies cover everywhere it applies,
 * not one covered on `connection` when the call's connection is given, and none of `overridden`
 * (allows a matching deny overrides for the exact call); and, when `family` (the tool's facts
 * family; null: unknown) is given, none with a block that cannot judge such calls: a `shell:`-only
 * rule never grants query_database (engine.ts evalRule), so offering it for one pointed at no way in.
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
 * calls (a `shell:` block never matches a query_database call: engine.ts evalRule). Why: discovery read
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
