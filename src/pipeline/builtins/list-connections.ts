/**
 * `list_connections`: what this principal may reach and a one-line summary of what it may do
 * there. It shows nothing that no allow rule could grant (least privilege in discovery), and
 * names in its grant lines no connection or tool an unconditional deny keeps this principal off.
 */
import { z } from 'zod';
import type { ConnectionConfig, GovernedTool, Principal } from '../../tool-api.js';
import { describeRule, familiesOf, grantsTool, ruleScopeFor, visibleConnections, whoMatches } from '../../policy/engine.js';
import type { CompiledPolicy } from '../../policy/types.js';

/** What builtins need from the core. */
export interface DiscoveryCore {
  policy(): CompiledPolicy;
  connections: ConnectionConfig[];
  tools(): GovernedTool<any, any>[];
}

/** Build the list_connections tool. */
export function listConnectionsTool(core: DiscoveryCore): GovernedTool<Record<string, never>> {
  return {
    name: 'list_connections',
    title: 'List reachable connections',
    description: 'List the connections you may use, with the tools and a summary of what the policy allows on each.',
    connectionTypes: null,
    input: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    parse() {
      return { family: 'discovery', summary: 'list connections' };
    },
    async execute(_input, _facts, ctx) {
      return { kind: 'json', data: { connections: listFor(core, ctx.principal) }, truncated: false };
    },
  };
}

/** The discovery answer for one principal (also used by the CLI and tests). */
export function listFor(core: DiscoveryCore, p: Principal) {
  const policy = core.policy();
  // A rule whose blocks judge none of a connection's tools (`shell:` on a database) grants nothing there.
  const familyOf = familiesOf(core.tools());
  const out: { name: string; type: string; description?: string; tools: string[]; grants: string[] }[] = [];
  for (const c of core.connections) {
    const tools = core
      .tools()
      .filter((t) => t.connectionTypes?.includes(c.type))
      .filter((t) => visibleConnections(policy, p, t.name, [c.name], familyOf).length > 0)
      .map((t) => t.name);
    if (!tools.length) continue;
    // Each grant as this principal may use it: an unconditional deny's connections and tools are left out of its words (rule-view.ts).
    const grants = policy.rules
      .filter((r) => r.effect === 'allow' && whoMatches(r, p))
      .map((r) => ({ r, scope: ruleScopeFor(policy, p, r) }))
      .filter(({ r, scope }) => (!scope.on || scope.on.includes(c.name)) && tools.some((t) => (!scope.tools || scope.tools.includes(t)) && grantsTool(r, t, familyOf)))
      .map(({ r, scope }) => `${r.id}: ${describeRule(r, scope)}`);
    out.push({ name: c.name, type: c.type, ...(typeof c.description === 'string' ? { description: c.description } : {}), tools, grants });
  }
  return out;
}
