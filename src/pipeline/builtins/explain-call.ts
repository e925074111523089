/**
 * `explain_call`: for admins only, explain how the active policy would decide a call for any
 * principal (facts, every rule and why, the decision), without running it. Ordinary principals
 * never see it in tools/list and get WARDEN_UNKNOWN_TOOL if they call it, as for any unknown tool.
 */
import { z } from 'zod';
import type { GovernedTool, Principal } from '../../tool-api.js';
import { explainCall, formatExplain } from '../../policy/explain.js';
import { claimsWithActors, isDelegated } from '../../policy/actors.js';
import type { DiscoveryCore } from './list-connections.js';

/** Who counts as an admin (warden.yaml `admins:`). */
export interface AdminSpec {
  subjects: string[];
  groups: string[];
}

/** A built-in visible only to some principals; the pipeline hides it from everyone else. */
export interface RestrictedTool {
  visibleTo(p: Principal): boolean;
}

/** Is this tool hidden from this principal? (tools without `visibleTo` are not restricted) */
export function hiddenFrom(tool: GovernedTool<any, any>, p: Principal): boolean {
  const v = (tool as Partial<RestrictedTool>).visibleTo;
  return typeof v === 'function' && !v(p);
}

/**
 * Admin check: a listed subject, or a member of a listed group, acting directly. Why directly: a
 * token with an `act` claim (an agent acting for an admin, well formed or not) is the agent's call,
 * and explain_call would show it every rule and how the policy treats any other principal, past
 * any deny on the agent (built-ins are not decided by rules); the UI refuses such tokens alike.
 */
export function isAdmin(admins: AdminSpec | undefined, p: Principal): boolean {
  if (!admins || isDelegated(p.claims)) return false;
  return admins.subjects.includes(p.subject) || admins.groups.some((g) => p.groups.includes(g));
}

const explainInput = z
  .object({
    as: z
      .object({
        subject: z.string().min(1).max(256),
        groups: z.array(z.string().min(1).max(256)).max(100).default([]),
        claims: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
        /** Agents acting for the subject (an RFC 8693 act chain), current actor first. */
        actors: z.array(z.string().min(1).max(256)).min(1).max(32).optional(),
      })
      .strict(),
    tool: z.string().min(1).max(128),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

type ExplainInput = z.infer<typeof explainInput>;

/** Build explain_call over the discovery core, for the configured admins. */
export function explainCallTool(core: DiscoveryCore, admins: AdminSpec): GovernedTool<ExplainInput> & RestrictedTool {
  return {
    name: 'explain_call',
    title: 'Explain a policy decision (admins)',
    description:
      'Explain how the active policy decides a call for a given principal: the parsed facts, every rule considered and why it matched or not, and the decision. Nothing is executed.',
    connectionTypes: null,
    input: explainInput as unknown as z.ZodType<ExplainInput>,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    visibleTo: (p) => isAdmin(admins, p),
    parse(input) {
      return { family: 'discovery', summary: `explain ${input.tool} as ${input.as.subject}` };
    },
    async execute(input) {
      // `as.claims` holds strings and lists only, so it carries no `act` of its own to conflict with.
      const claims = claimsWithActors(input.as.claims, input.as.actors ?? []) ?? input.as.claims;
      const principal: Principal = { subject: input.as.subject, groups: input.as.groups, claims, authMethod: 'local' };
      const tools = core.tools().filter((t) => t.connectionTypes !== null);
      const report = await explainCall({ policy: core.policy(), tools, connections: core.connections }, principal, input.tool, input.arguments);
      return { kind: 'json', data: { ...report, text: formatExplain(report) }, truncated: false };
    },
  };
}
