/**
 * The legal approval state changes, as the stores write them (approval-rules.ts), checked over the
 * approval_event records in seq order: verify (both stores, through verify-approvals.ts) and the
 * offline check of an export (export-verify.ts). Why: the row replay proves the approval tables
 * agree with the records, not that the records are a history the stores could have written;
 * whoever can write the store can append events that hash cleanly onto the chain (a second
 * `used`, an `approved` after a deny, a request decided by its own requester) and set the rows to
 * match. Times are not judged (a PostgreSQL record carries the caller's or the database's clock).
 *
 *   requested -> pending
 *   decision  (pending; one per reviewer until withdrawn; never the requester or one of its
 *              actors, except the requester's own answer to a `confirm` request)
 *   approved  (pending, with at least the required approvals)   denied (pending, after a deny)
 *   expired / voided (pending or approved)                     used (approved)
 *   withdrawn (pending or approved; an approve by that reviewer; approved -> pending when short)
 *   combined  (any state: a link to a combination changes no state, and a request may settle
 *              between the read that lists it and the write that links it)
 */

type Body = Record<string, unknown>;

interface RequestState {
  state: string;
  requester: string;
  actors: string[];
  confirm: boolean;
  required: number;
  decisions: Map<string, string>;
}

const OPEN = new Set(['pending', 'approved']);
/** The states each state-changing event may leave. */
const FROM: Record<string, ReadonlySet<string>> = {
  approved: new Set(['pending']),
  denied: new Set(['pending']),
  expired: OPEN,
  voided: OPEN,
  used: new Set(['approved']),
  withdrawn: OPEN,
  decision: new Set(['pending']),
};

const article = (event: string): string => (/^[ae]/.test(event) ? 'an' : 'a');

/** Replays approval events and names the first one no store could have written. */
export class ApprovalTransitions {
  private readonly requests = new Map<string, RequestState>();

  /**
   * Check one event (`b`, the parsed body of request `id`) and apply it; the reason it is illegal,
   * or null. A request whose `requested` record is not in view (a retention cut, an export
   * window) is not judged.
   */
  apply(id: string, b: Body): string | null {
    const name = JSON.stringify(id);
    const event = String(b.event);
    if (event === 'requested') {
      const actors = Array.isArray(b.requesterActors) ? b.requesterActors.map(String) : [];
      const required = Number(b.approvalsRequired);
      this.requests.set(id, {
        state: 'pending', requester: String(b.requester), actors, confirm: b.confirm !== null && b.confirm !== undefined,
        required: Number.isFinite(required) && required > 0 ? required : 1, decisions: new Map(),
      });
      return null;
    }
    const r = this.requests.get(id);
    if (!r) return null;
    const from = FROM[event];
    if (!from) return null; // combined, and unknown events (the replay's to report)
    if (!from.has(r.state)) return `approval request ${name} is ${r.state}: ${article(event)} \`${event}\` event cannot follow`;
    // The stores record the state a change left; a record that says otherwise was not written by them.
    if (event !== 'decision' && typeof b.from === 'string' && b.from !== r.state) {
      return `approval request ${name} is ${r.state}, but its \`${event}\` event says it was ${b.from}`;
    }
    switch (event) {
      case 'decision': {
        const reviewer = String(b.reviewer);
        if (b.decision !== 'approve' && b.decision !== 'deny') return `approval request ${name} has a decision that is neither approve nor deny`;
        if (r.confirm) {
          if (reviewer !== r.requester) return `approval request ${name} is a confirmation, answered by ${reviewer} instead of its requester ${r.requester}`;
        } else if (reviewer === r.requester || r.actors.includes(reviewer)) return `approval request ${name} is decided by its requester ${reviewer}`;
        if (r.decisions.has(reviewer)) return `approval request ${name} is decided twice by ${reviewer}`;
        r.decisions.set(reviewer, b.decision);
        return null;
      }
      case 'approved': {
        const approvals = this.approvals(r);
        if (approvals < r.required) return `approval request ${name} is approved with ${approvals} of ${r.required} required approvals`;
        break;
      }
      case 'denied':
        if (![...r.decisions.values()].includes('deny')) return `approval request ${name} is denied with no deny decision`;
        break;
      case 'withdrawn': {
        const reviewer = String(b.reviewer);
        if (r.decisions.get(reviewer) !== 'approve') return `approval request ${name} has an approval withdrawn from ${reviewer}, who holds none`;
        r.decisions.delete(reviewer);
        if (r.state === 'approved' && this.approvals(r) < r.required) r.state = 'pending';
        return null;
      }
      case 'combined':
        return null;
    }
    r.state = event;
    return null;
  }

  private approvals(r: RequestState): number {
    let n = 0;
    for (const d of r.decisions.values()) if (d === 'approve') n++;
    return n;
  }
}
