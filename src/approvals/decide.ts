/**
 * The reviewers' decide path of the approval service (service.ts): approve or deny one request.
 * Who may decide is checked inside the store's write (never the requester or any actor of the
 * requester's delegation chain, never twice, by any of the reviewer's names, never a delegated
 * token, never under stale terms), by the check the reviewer queue shows (decision-refusal.ts).
 * The decision records the reviewer's person names (subjects.ts decisionNames).
 */
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import type { ApprovalView } from './review-api.js';
import { reviewerRefusal, rowRefusal } from './decision-refusal.js';
import type { ServiceContext } from './service.js';
import { withdrawIneligible, withdrawnNote } from './withdraw.js';
import { expireDue } from './expiry.js';
import { decisionNames, identitySource, MAX_REQUESTER_NAME_CHARS, MAX_REQUESTER_NAMES } from './subjects.js';

const MAX_COMMENT = 2000;
const refused = (m: string) => new WardenError(ErrorCode.DENIED, m);

/** Record one reviewer's decision; notifies the rule's `notify:` of it, and of the settled state. */
export async function decide(ctx: ServiceContext, id: string, reviewer: Principal, decision: 'approve' | 'deny', comment?: string): Promise<ApprovalView> {
  const { tables, opts, iso, notify, viewOf } = ctx;
  if (typeof id !== 'string' || !id) throw refused('an approval id is required');
  // Decisions come from a human acting directly: a token in which someone acts for the
  // reviewer (an RFC 8693 `act` claim) is an agent, and an agent never decides for a human.
  const delegated = reviewerRefusal(reviewer);
  if (delegated) throw new WardenError(ErrorCode.DENIED, delegated.message, { reason: delegated.reason });
  // A verified token whose groups no longer qualify withdraws this reviewer's approvals still open
  // (withdraw.ts), before this decision is judged on the same token.
  const withdrawn = await withdrawIneligible(ctx, reviewer);
  // Every name the reviewer goes by (its email...), recorded with the decision so that the same
  // person under another subject does not count again; names that cannot all be recorded refuse it.
  const names = decisionNames(reviewer, opts.personClaims);
  if (typeof names === 'string') throw refused(`${reviewer.subject} cannot decide: ${names}; at most ${MAX_REQUESTER_NAMES} names of at most ${MAX_REQUESTER_NAME_CHARS} characters are recorded`);
  const at = iso();
  await expireDue(ctx, at);
  const before = await tables.get(id);
  const row = await tables.decide(
    id,
    { reviewer: reviewer.subject, decision, comment: comment ? comment.slice(0, MAX_COMMENT) : null, auth: identitySource(reviewer), at, ...(names.length ? { reviewerNames: names } : {}) },
    (r) => {
      // The same check the reviewer queue shows (decision-refusal.ts), here inside the store's write.
      const why = rowRefusal(r, reviewer, decision, opts.policy?.(), opts.personClaims);
      if (why) throw refused(why.message + withdrawnNote(withdrawn));
    },
  );
  const rv = { subject: reviewer.subject, decision, comment: comment ?? null };
  const view = await viewOf(row);
  notify(row, 'decision', row.seq, { reviewer: rv }, undefined, view);
  if (row.settledSeq !== null && row.state !== before?.state && (row.state === 'approved' || row.state === 'denied')) notify(row, row.state, row.settledSeq, { reviewer: rv }, undefined, view);
  return view;
}
