/**
 * Which tools an allow rule's condition blocks can judge, for discovery. A block judges calls of
 * some facts families only (`sql:` sql, `shell:` shell and kubernetes-exec): evalRule refuses a
 * rule with a block that does not judge the call's family, so such a rule never grants that tool.
 * Discovery (tools/list, list_connections, describe_database, the unknown-connection answer)
 * must not read it as granting the tool either (discovery-grants.ts grantsTool, decideDiscovery).
 */
import type { CompiledRule } from './types.js';

/**
 * The facts family of a tool's calls (GovernedTool.factsFamily), or undefined when the tool does
 * not say: discovery then counts only the allow rules whose every block judges that family.
 */
export type FamilyOf = (tool: string) => string | undefined;

/** The facts families of these tools, by name (a discovery tool's under its own name and the one it describes). */
export function familiesOf(tools: readonly { name: string; factsFamily?: string; discoveryFor?: string; discoveryFamily?: string }[]): FamilyOf {
  const m = new Map<string, string>();
  for (const t of tools) {
    if (t.factsFamily) m.set(t.name, t.factsFamily);
    if (t.discoveryFamily) m.set(t.name, t.discoveryFamily);
  }
  for (const t of tools) if (t.discoveryFor && t.discoveryFamily && !m.has(t.discoveryFor)) m.set(t.discoveryFor, t.discoveryFamily);
  return (tool) => m.get(tool);
}

/** Can every condition block of the rule judge calls of this facts family? (none can when the family is unknown: fail closed) */
export function judgesFamily(r: Pick<CompiledRule, 'conditions'>, family: string | null): boolean {
  return r.conditions.every((c) => family !== null && c.families.includes(family));
}
