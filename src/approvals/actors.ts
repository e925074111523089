/**
 * Delegation claims (RFC 8693 token exchange): a token an agent got by exchanging a human's
 * carries `sub` = the human and `act: { sub: "agent-x" }`, the current actor, whose own `act`
 * names the actor before it (a chain). Why here: the approval rules treat every subject of the
 * chain as a requester, refuse reviewers who act for someone else, and show the chain to
 * reviewers; they read it from the principal's claims (identity/claims.ts keeps `act`). In
 * approvals, not identity, because approvals may not import identity (test/layering.test.ts).
 */

/** Deepest chain read; a longer one is refused outright as a reviewer and truncated for display only. */
const MAX_DEPTH = 32;

/** The actors' subjects, current actor first (`act.sub`, then `act.act.sub`, ...); [] without delegation. A link without a string `sub` names no one and ends the chain. */
export function actorChain(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  let act: unknown = Object.hasOwn(claims, 'act') ? claims.act : undefined;
  while (act && typeof act === 'object' && !Array.isArray(act) && out.length < MAX_DEPTH) {
    const link = act as Record<string, unknown>;
    if (typeof link.sub !== 'string' || !link.sub) break;
    out.push(link.sub);
    act = Object.hasOwn(link, 'act') ? link.act : undefined;
  }
  return out;
}

/**
 * Whether the token says someone acts for its subject: any `act` claim at all, well formed or not
 * (fail closed: a reviewer's token with a malformed `act` is still not a human acting directly).
 */
export function isDelegated(claims: Record<string, unknown>): boolean {
  return Object.hasOwn(claims, 'act') && claims.act !== undefined && claims.act !== null;
}

/** "agent-x acting for alice", "agent-x acting for broker acting for alice"; the subject alone without actors. */
export function actingFor(subject: string, actors: readonly string[]): string {
  return [...actors, subject].join(' acting for ');
}
