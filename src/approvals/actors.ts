/**
 * Delegation claims (RFC 8693 token exchange) for approvals: the approval rules treat every
 * subject of the chain as a requester, refuse reviewers who act for someone else, and show the
 * chain to reviewers. The chain is read in policy/actors.ts (policy `who:` matches actors too;
 * approvals may import policy, not the other way round: test/layering.test.ts).
 */
import { actorLinks, actorNamesForDeny, isDelegated, MAX_ACTOR_DEPTH } from '../policy/actors.js';

export { actorChain, isDelegated } from '../policy/actors.js';

/** "agent-x acting for alice", "agent-x acting for broker acting for alice"; the subject alone without actors. */
export function actingFor(subject: string, actors: readonly string[]): string {
  return [...actors, subject].join(' acting for ');
}

/**
 * Why the token's `act` claim cannot be recorded as a requester's actor chain, or null (no `act`,
 * or an RFC 8693 chain: objects with a string `sub`, within MAX_ACTOR_DEPTH). Why: actorChain stops
 * at the first link it cannot read, so `act: [{ sub: dana }]` read as alice acting directly: dana,
 * who acted, approved her own call, the token spent alice's own approvals and read her requests
 * (a red-team pass). The gate refuses such a caller, and it owns no request (service.ts).
 */
export function unreadableChain(claims: Record<string, unknown>): string | null {
  if (!isDelegated(claims) || actorLinks(claims).wellFormed) return null;
  return `the token's act (delegation) claim is not an RFC 8693 actor chain Warden can record (each link an object with a string sub, at most ${MAX_ACTOR_DEPTH} links), so who acted cannot be told from the requester`;
}

/**
 * The requester's actor chain as a request records and binds it (requester_actors), current actor
 * first: each actor's subject, and for a link that names another issuer than the token's own,
 * ` (iss ISSUER)` after it. Why: a `sub` is unique only within its issuer, and bound by subject
 * alone, agent-x named by another issuer acting for hana spent (and read) the approvals given to
 * the token issuer's own agent-x acting for her (a red-team pass). A link without `iss`, or with
 * the token's, is the issuer's own actor, recorded as before. Read for a chain unreadableChain passes.
 */
export function requesterChain(claims: Record<string, unknown>): string[] {
  const own = typeof claims.iss === 'string' ? claims.iss : undefined;
  return actorLinks(claims).links.map((l) => (l.iss !== undefined && l.iss !== own ? `${l.sub} (iss ${l.iss})` : l.sub));
}

/**
 * The subject of a recorded actor (requesterChain): without its ` (iss ...)` part. Why: the
 * no-self-approval check compares names folded and generously (it only ever refuses), so the
 * issuer's own `agent-x` does not approve what another issuer's agent-x asked either.
 */
export function actorSubject(recorded: string): string {
  return recorded.replace(/ \(iss [^]*\)$/u, '');
}

/**
 * The actors a transcript's session record names: the chain as a request records it (requesterChain:
 * an actor named by another issuer says so), current actor first; for an `act`
 * that is no RFC 8693 chain, every name it holds (as a deny reads it) and `actorsMalformed`. Why:
 * recorded by actorChain alone, `act: [{ sub: dana }]` read as the principal acting directly.
 */
export function recordedActors(claims: Record<string, unknown>): { actors?: string[]; actorsMalformed?: true } {
  if (!isDelegated(claims)) return {};
  if (actorLinks(claims).wellFormed) {
    const chain = requesterChain(claims);
    return chain.length ? { actors: chain } : {};
  }
  const names = actorNamesForDeny(claims).names;
  return { ...(names.length ? { actors: names } : {}), actorsMalformed: true };
}
