/**
 * Withdrawing the approvals of a reviewer who no longer qualifies. A request records who approved
 * it, not whether they may still: a reviewer taken off the group that made them a reviewer (at the
 * IdP) would otherwise keep counting until the request is used. So when Warden next sees a reviewer
 * with a verified token (a decision with a token, from the CLI, the UI or its API, and the UI's
 * token sign-in), every approval of theirs on a request still open (pending, approved and not yet
 * used, or used by a call that has not ended and may still give it back) whose reviewers the token
 * no longer matches is withdrawn: a `withdrawn` record, the decision no longer counted, an
 * approved request short of its count pending again, a used one left used (given back short, it
 * returns pending: give-back.ts; still running, and short of its count, it is cancelled:
 * in-flight.ts) (store `withdraw`). Only a verified token says what someone's
 * groups are now: an unchecked `--as` claim or the one-time link does not, and a delegated token
 * (`act`) may carry groups narrowed for the agent.
 */
import type { Principal } from '../tool-api.js';
import { whoMatches } from '../policy/engine.js';
import type { ApprovalRow } from '../recorder/index.js';
import { isDelegated } from './actors.js';
import { identitySource, sameSubject } from './subjects.js';
import { reviewersLabel } from './views.js';
import type { ServiceContext } from './service.js';

/** One withdrawn approval: the request and the reviewer as recorded on it. */
export interface Withdrawal {
  id: string;
  reviewer: string;
}

/**
 * Withdraw `reviewer`'s approvals that its verified token no longer backs; returns what was
 * withdrawn (nothing for a principal that is not a verified, direct token).
 */
export async function withdrawIneligible(ctx: ServiceContext, reviewer: Principal): Promise<Withdrawal[]> {
  if (reviewer.authMethod !== 'oidc' || isDelegated(reviewer.claims)) return [];
  const { tables, iso, notify } = ctx;
  const source = identitySource(reviewer);
  // Every open request with an approval, not the newest N open ones: an agent's flood of new
  // requests must not push the one it wants kept out of this sweep.
  const open = await tables.openWithApprovals();
  const done: Withdrawal[] = [];
  for (const r of open) {
    // The reviewer's own approvals: the same subject from the same issuer (a decision recorded
    // before decisions named their issuer, auth `oidc`, by the subject alone). Not by person names
    // (the `email` a decision records, decision-refusal.ts): this token's groups speak for its
    // issuer's subject only, not for a local login or another issuer's groups, and a name only ever
    // refuses; matched by name, any token carrying dana's (unverified) email would withdraw hers.
    const mine = r.confirm === null ? r.decisions.filter((d) => d.decision === 'approve' && sameSubject(d.reviewer, reviewer.subject) && (d.auth === source || d.auth === 'oidc')) : [];
    if (!mine.length || whoMatches({ who: r.reviewers }, reviewer)) continue;
    for (const d of mine) {
      const why = whyWithdrawn(r, d.reviewer, reviewer);
      const seq = await tables.withdraw(r.id, d.reviewer, why, iso());
      if (seq === null) continue;
      done.push({ id: r.id, reviewer: d.reviewer });
      const now = await tables.get(r.id);
      if (now) notify(now, 'withdrawn', seq, { withdrawn: { reviewer: d.reviewer, why } }, undefined, await ctx.viewOf(now));
      // Used by a call still running here and now short: that call is stopped (in-flight.ts).
      if (now?.usedByCall) ctx.inFlight?.withdrawn(now.usedByCall, now);
    }
  }
  return done;
}

function whyWithdrawn(r: ApprovalRow, recorded: string, p: Principal): string {
  const groups = p.groups.length ? p.groups.join(', ') : 'none';
  return `${recorded} is no longer a reviewer of this request (needs ${reviewersLabel(r)}): a verified token of ${p.subject} carries groups ${groups}`;
}

/** The words a refused decision adds about what the same token withdrew ('' when nothing). */
export function withdrawnNote(w: readonly Withdrawal[]): string {
  if (!w.length) return '';
  return `; ${w.length} approval${w.length === 1 ? '' : 's'} by ${w[0]!.reviewer} on request${w.length === 1 ? '' : 's'} not yet run ${w.length === 1 ? 'was' : 'were'} withdrawn (${w.map((x) => x.id).join(', ')}): no longer a reviewer of ${w.length === 1 ? 'it' : 'them'}`;
}
