/**
 * Delegation claims (RFC 8693 token exchange) for approvals: the approval rules treat every
 * subject of the chain as a requester, refuse reviewers who act for someone else, and show the
 * chain to reviewers. The chain is read in policy/actors.ts (policy `who:` matches actors too;
 * approvals may import policy, not the other way round: test/layering.test.ts).
 */
export { actorChain, isDelegated } from '../policy/actors.js';

/** "agent-x acting for alice", "agent-x acting for broker acting for alice"; the subject alone without actors. */
export function actingFor(subject: string, actors: readonly string[]): string {
  return [...actors, subject].join(' acting for ');
}
