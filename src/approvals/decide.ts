/**
 * The reviewers' decide path of the approval service (service.ts): approve or deny one request.
 * Who may decide is checked inside the store's write (never the requester or any actor of the
 * requester's delegation chain, never twice, never a delegated token, never under stale terms).
 */
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import { whoMatches } from '../policy/engine.js';
import { sameSubject } from './subjects.js';
import { actingFor, actorChain, isDelegated } from './actors.js';
import type { ApprovalView } from './review-api.js';
import { reviewersLabel } from './views.js';
import { staleTerms } from './live-terms.js';
import type { ServiceContext } from './service.js';

const MAX_COMMENT = 2000;
const refused = (m: string) => new WardenError(ErrorCode.DENIED, m);

/** Record one reviewer's decision; notifies the rule's `notify:` of it, and of the settled state. */
export async function decide(ctx: ServiceContext, id: string, reviewer: Principal, decision: 'approve' | 'deny', comment?: string): Promise<ApprovalView> {
  const { tables, opts, iso, notify, viewOf } = ctx;
  if (typeof id !== 'string' || !id) throw refused('an approval id is required');
  // Decisions come from a human acting directly: a token in which someone acts for the
  // reviewer (an RFC 8693 `act` claim) is an agent, and an agent never decides for a human.
  if (isDelegated(reviewer.claims)) {
    const chain = actorChain(reviewer.claims);
    throw new WardenError(
      ErrorCode.DENIED,
      `${chain.length ? actingFor(reviewer.subject, chain) : `someone acting for ${reviewer.subject}`} cannot approve or deny: the token carries an act (delegation) claim, and approvals must come from a human acting directly`,
      { reason: 'delegated_reviewer' },
    );
  }
  const at = iso();
  await tables.expireDue(at);
  const before = await tables.get(id);
  const row = await tables.decide(
    id,
    { reviewer: reviewer.subject, decision, comment: comment ? comment.slice(0, MAX_COMMENT) : null, auth: reviewer.authMethod, at },
    (r) => {
      // The store compares subjects exactly; a variant spelling of the requester or of an
      // earlier reviewer (case, width, whitespace, zero-width characters) is the same person.
      // With delegation (an agent acting for a human), the human and every actor of the chain
      // requested the call: alice does not approve what agent-x did for her.
      const as = [r.requester, ...r.requesterActors].find((s) => sameSubject(reviewer.subject, s));
      if (as !== undefined) throw refused(`${reviewer.subject} requested this call (as ${as}, request by ${actingFor(r.requester, r.requesterActors)}) and cannot approve or deny it`);
      const twice = r.decisions.find((x) => sameSubject(x.reviewer, reviewer.subject));
      if (twice) throw refused(`${reviewer.subject} has already decided on approval request ${r.id} (as ${twice.reviewer})`);
      // A reload that changed the rule's terms: the reviewers named when it was made no longer
      // approve it (a deny only refuses, and such a request never runs a call anyway).
      const stale = decision === 'approve' ? staleTerms(r, opts.policy?.()) : null;
      if (stale) throw refused(stale);
      if (!whoMatches({ who: r.reviewers }, reviewer)) throw refused(`${reviewer.subject} is not a reviewer for this request (reviewers: ${reviewersLabel(r)})`);
    },
  );
  const rv = { subject: reviewer.subject, decision, comment: comment ?? null };
  const view = await viewOf(row);
  notify(row, 'decision', { reviewer: rv }, undefined, view);
  if (row.state !== before?.state && (row.state === 'approved' || row.state === 'denied')) notify(row, row.state, { reviewer: rv }, undefined, view);
  return view;
}
