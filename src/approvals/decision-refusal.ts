/**
 * Why a reviewer may not approve or deny a request: the one check behind decide.ts (which runs it
 * inside the store's write, and throws) and behind the reviewer queue (which runs it on the rows it
 * lists, and shows the reason instead of buttons the server would refuse). Side-effect free.
 */
import type { Principal } from '../tool-api.js';
import { whoMatches } from '../policy/engine.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { ApprovalRow } from '../recorder/index.js';
import { reviewerNames, sameSubject } from './subjects.js';
import { actingFor, actorChain, actorSubject, isDelegated } from './actors.js';
import { reviewersLabel } from './views.js';
import { staleTerms } from './live-terms.js';

/**
 * A refusal: `message` is the server's wording (the WARDEN_DENIED error), `short` the reviewer's
 * own view of it for a queue ("your own request", "needs dba", "you already approved").
 */
export interface DecisionRefusal {
  reason: 'delegated_reviewer' | 'own_request' | 'already_decided' | 'stale_terms' | 'not_a_reviewer';
  message: string;
  short: string;
}

/** Refused whatever the request: a token in which someone acts for the reviewer (an agent never decides for a human). */
export function reviewerRefusal(reviewer: Principal): DecisionRefusal | null {
  if (!isDelegated(reviewer.claims)) return null;
  const chain = actorChain(reviewer.claims);
  return {
    reason: 'delegated_reviewer',
    message: `${chain.length ? actingFor(reviewer.subject, chain) : `someone acting for ${reviewer.subject}`} cannot approve or deny: the token carries an act (delegation) claim, and approvals must come from a human acting directly`,
    short: 'your sign-in acts for someone else: decisions come from a human acting directly',
  };
}

/** Refused for this request: the requester (or an actor of its chain), a second decision, stale terms (approve only), not a reviewer. */
export function rowRefusal(r: ApprovalRow, reviewer: Principal, decision: 'approve' | 'deny', policy: CompiledPolicy | undefined, personClaims?: readonly string[]): DecisionRefusal | null {
  // The store compares subjects exactly; a variant spelling of the requester or of an earlier
  // reviewer (case, width, whitespace, zero-width characters, trailing dots) is the same person,
  // whatever identity source (issuer, stdio, local) presents it. With delegation (an agent acting
  // for a human), the human and every actor of the chain requested the call: alice does not
  // approve what agent-x did for her. And the reviewer is each of its names: its subject and its
  // person claims (`email`: subjects.ts reviewerNames), so sam signed in as the IdP's `00u9f3k`
  // with email sam@corp.example does not approve what the agent running as sam@corp.example asked.
  // The requester is each of its names too: its subject, its actors and the person names recorded
  // with the request (none before SQLite v15 / PostgreSQL v12), so sam does not approve what his
  // agent signed in as `00u1abc` with email sam@corp.example asked.
  const names = reviewerNames(reviewer, personClaims);
  for (const s of [r.requester, ...r.requesterActors.flatMap((a) => [a, actorSubject(a)]), ...r.requesterNames]) {
    const name = names.find((n) => sameSubject(n, s));
    if (name === undefined) continue;
    const via = name === reviewer.subject ? '' : `, by the name ${name} its token carries`;
    return { reason: 'own_request', message: `${reviewer.subject} requested this call (as ${s}${via}, request by ${actingFor(r.requester, r.requesterActors)}) and cannot approve or deny it`, short: 'your own request: another reviewer decides it' };
  }
  // One person counts once: a decision any of whose names (its reviewer's subject and the person
  // names recorded with it: none before SQLite v16 / PostgreSQL v13) is one of this reviewer's is
  // theirs. So dana, who approved with her IdP token (`sub` 00u9, email dana@corp.example), does
  // not approve again as dana@corp.example (local login, `--as`, stdio, another issuer), nor the reverse.
  const twice = r.decisions.find((x) => [x.reviewer, ...x.reviewerNames].some((m) => names.some((n) => sameSubject(m, n))));
  if (twice) {
    return { reason: 'already_decided', message: `${reviewer.subject} has already decided on approval request ${r.id} (as ${twice.reviewer})`, short: `you already ${twice.decision === 'approve' ? 'approved' : 'denied'} this request` };
  }
  // A reload that changed the rule's terms: the reviewers named when it was made no longer
  // approve it (a deny only refuses, and such a request never runs a call anyway).
  const stale = decision === 'approve' ? staleTerms(r, policy) : null;
  if (stale) return { reason: 'stale_terms', message: stale, short: 'its approval terms changed in a policy reload: it can be denied, not approved' };
  if (!whoMatches({ who: r.reviewers }, reviewer)) {
    return { reason: 'not_a_reviewer', message: `${reviewer.subject} is not a reviewer for this request (reviewers: ${reviewersLabel(r)})`, short: `needs ${reviewersLabel(r)}: you are not among this request's reviewers` };
  }
  return null;
}

/** Both checks, as approve/deny make them (the store refuses a request that is no longer pending on its own). */
export function decisionRefusal(r: ApprovalRow, reviewer: Principal, decision: 'approve' | 'deny', policy: CompiledPolicy | undefined, personClaims?: readonly string[]): DecisionRefusal | null {
  return reviewerRefusal(reviewer) ?? rowRefusal(r, reviewer, decision, policy, personClaims);
}
