/**
 * The legal approval state changes, as the stores write them (approval-rules.ts), checked over the
 * approval_event records in seq order: verify (both stores, through verify-approvals.ts) and the
 * offline check of an export (export-verify.ts). Why: the row replay proves the approval tables
 * agree with the records, not that the records are a history the stores could have written;
 * whoever can write the store can append events that hash cleanly onto the chain (a second
 * `used`, an `approved` after a deny, a request decided by its own requester) and set the rows to
 * match.
 *
 * Times are judged against the request's stored expiry (`expiresAt` of its `requested` record),
 * within APPROVAL_CLOCK_TOLERANCE_MS: the expiry must be a time, not before the request's own; an
 * `approved` or a `used` must not be recorded after it, an `expired` not before it. Why a
 * tolerance: with PostgreSQL the store decides expiry by the database's clock, but a `used`
 * record carries the gate's estimate of it (its clock plus an offset measured once per call),
 * so a legal use near the expiry may be recorded a moment after it. `decision` records carry the
 * reviewer's own clock there (any skew) and are not judged; the `approved` record the deciding
 * transaction writes is (the database's time). The expiry must also be no further from the
 * request's time than the duration it was made with (`expiresMs`, the rule's `expires`), within
 * the tolerance; a record without `expiresMs` (written before it was recorded) is not judged so.
 *
 *   requested -> pending
 *   decision  (pending; one per reviewer until withdrawn, and none by a reviewer any of whose
 *              names, its subject or its recorded person names, an earlier one holds; never the
 *              requester, one of its actors or of its recorded person names, except the
 *              requester's own answer to a `confirm` request)
 *   approved  (pending, with at least the required approvals)   denied (pending, after a deny)
 *   expired / voided (pending or approved)                     used (approved)
 *   withdrawn (pending, approved, or used by a call that may still give it back; an approve by
 *              that reviewer; approved -> pending when short, used stays used)
 *   returned  (used -> approved, or -> pending when a withdrawal left it short (`to`), by the
 *              call that used it: it was cancelled before it started)
 *   combined  (any state: a link to a combination changes no state, and a request may settle
 *              between the read that lists it and the write that links it)
 */

type Body = Record<string, unknown>;

interface RequestState {
  state: string;
  /** The stored expiry, ms since the epoch. */
  expires: number;
  expiresAt: string;
  requester: string;
  /** The actors of its chain and its recorded person names (requesterNames): none of them decides. */
  actors: string[];
  confirm: boolean;
  required: number;
  decisions: Map<string, string>;
  /** Each deciding reviewer's recorded person names (its `decision` record's reviewerNames). */
  names: Map<string, string[]>;

  /** The call that used it (its `used` record's callId), while used. */
  usedBy?: string;
}

const OPEN = new Set(['pending', 'approved']);
/** The states each state-changing event may leave. */
const FROM: Record<string, ReadonlySet<string>> = {
  approved: new Set(['pending']),
  denied: new Set(['pending']),
  expired: OPEN,
  voided: OPEN,
  used: new Set(['approved']),
  withdrawn: new Set(['pending', 'approved', 'used']),
  returned: new Set(['used']),
  decision: new Set(['pending']),
};

const article = (event: string): string => (/^[ae]/.test(event) ? 'an' : 'a');

/**
 * How far (ms) an `approved` or `used` record's time may pass the request's expiry, and an
 * `expired` record's time fall short of it, before verify reports it: clock differences between
 * the database and the replica that wrote the record. 5 s: far above the offset error of a
 * measured clock (a round trip), far below any `expires` a policy would set.
 */
export const APPROVAL_CLOCK_TOLERANCE_MS = 5_000;
const TOLERANCE = `more than the clock tolerance ${APPROVAL_CLOCK_TOLERANCE_MS / 1000} s`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** An ISO UTC time in ms, or NaN. */
const timeOf = (v: unknown): number => (typeof v === 'string' && ISO.test(v) ? Date.parse(v) : NaN);

/** Replays approval events and names the first one no store could have written. */
export class ApprovalTransitions {
  private readonly requests = new Map<string, RequestState>();

  /**
   * Check one event (`b`, the parsed body of request `id`, recorded at `ts`) and apply it; the
   * reason it is illegal (timing findings start with their code, `APPROVAL_...: `), or null. A
   * request whose `requested` record is not in view (a retention cut, an export window) is not
   * judged.
   */
  apply(id: string, b: Body, ts: string): string | null {
    const name = JSON.stringify(id);
    const event = String(b.event);
    if (event === 'requested') {
      const actors = [b.requesterActors, b.requesterNames].flatMap((l) => (Array.isArray(l) ? l.map(String) : []));
      const required = Number(b.approvalsRequired);
      const expires = timeOf(b.expiresAt);
      const expiresAt = String(b.expiresAt);
      if (Number.isNaN(expires)) return `APPROVAL_EXPIRY_INVALID: approval request ${name} has no valid expiry time (${JSON.stringify(b.expiresAt ?? null)})`;
      const at = timeOf(ts);
      if (Number.isNaN(at)) return `APPROVAL_TIME_INVALID: approval request ${name} has a \`requested\` record with no valid time (${JSON.stringify(ts)})`;
      // Equal is legal (`expires: 0s` makes a request that can never be approved); within the
      // clock tolerance too, as the request's time and its expiry may come from two clocks.
      if (expires < at - APPROVAL_CLOCK_TOLERANCE_MS) return `APPROVAL_EXPIRY_INVALID: approval request ${name} expires at ${expiresAt}, before it was requested at ${ts}`;
      if (b.expiresMs !== undefined) {
        const ms = b.expiresMs;
        if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) return `APPROVAL_EXPIRY_INVALID: approval request ${name} has no valid expiry duration (${JSON.stringify(ms)})`;
        if (expires - at > ms + APPROVAL_CLOCK_TOLERANCE_MS) {
          return `APPROVAL_EXPIRY_TOO_LONG: approval request ${name} expires at ${expiresAt}, more than its expiry duration ${ms / 1000} s after it was requested at ${ts} (${TOLERANCE})`;
        }
      }
      this.requests.set(id, {
        expires, expiresAt, state: 'pending', requester: String(b.requester), actors, confirm: b.confirm !== null && b.confirm !== undefined,
        required: Number.isFinite(required) && required > 0 ? required : 1, decisions: new Map(), names: new Map(),
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
    const late = this.timing(name, event, r, ts);
    if (late) return late;
    switch (event) {
      case 'decision': {
        const reviewer = String(b.reviewer);
        if (b.decision !== 'approve' && b.decision !== 'deny') return `approval request ${name} has a decision that is neither approve nor deny`;
        if (r.confirm) {
          if (reviewer !== r.requester) return `approval request ${name} is a confirmation, answered by ${reviewer} instead of its requester ${r.requester}`;
        } else if (reviewer === r.requester || r.actors.includes(reviewer)) return `approval request ${name} is decided by its requester ${reviewer}`;
        const names = Array.isArray(b.reviewerNames) ? b.reviewerNames.map(String) : [];
        const mine = [reviewer, ...names];
        if (!r.confirm && mine.some((n) => n === r.requester || r.actors.includes(n))) return `approval request ${name} is decided by its requester ${reviewer} (as ${mine.find((n) => n === r.requester || r.actors.includes(n))})`;
        if (r.decisions.has(reviewer)) return `approval request ${name} is decided twice by ${reviewer}`;
        const earlier = [...r.names].find(([who, theirs]) => [who, ...theirs].some((n) => mine.includes(n)));
        if (earlier) return `approval request ${name} is decided twice by one person: ${reviewer}, and ${earlier[0]} by a name they share`;
        r.decisions.set(reviewer, b.decision);
        r.names.set(reviewer, names);
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
        r.names.delete(reviewer);
        // The store says whether the withdrawal left it short (`reopened`: it counts people, stricter
        // than this count); older records, by count. Never still approved with fewer approvals.
        const short = this.approvals(r) < r.required;
        if (r.state === 'approved' && b.reopened === false && short) return `approval request ${name} stays approved after a withdrawal left ${this.approvals(r)} of ${r.required} required approvals`;
        if (r.state === 'approved' && (typeof b.reopened === 'boolean' ? b.reopened : short)) r.state = 'pending';
        return null;
      }
      case 'combined':
        return null;
      case 'used':
        r.usedBy = String(b.callId);
        break;
      case 'returned':
        if (String(b.callId) !== r.usedBy) return `approval request ${name} is given back for call ${String(b.callId)}, which did not use it`;
        // Back to approved only with its count (older records have no `to`: approved, as then).
        if (b.to !== 'pending' && this.approvals(r) < r.required) return `approval request ${name} is given back approved with ${this.approvals(r)} of ${r.required} required approvals`;
        r.state = b.to === 'pending' ? 'pending' : 'approved';
        delete r.usedBy;
        return null;
    }
    r.state = event;
    return null;
  }

  /** An `approved` or `used` after the expiry, an `expired` before it (beyond the tolerance), or a record with no valid time. */
  private timing(name: string, event: string, r: RequestState, ts: string): string | null {
    if (event !== 'approved' && event !== 'used' && event !== 'expired') return null;
    const at = timeOf(ts);
    if (Number.isNaN(at)) return `APPROVAL_TIME_INVALID: approval request ${name} has ${article(event)} \`${event}\` record with no valid time (${JSON.stringify(ts)})`;
    if (event === 'expired') {
      return at < r.expires - APPROVAL_CLOCK_TOLERANCE_MS ? `APPROVAL_EXPIRED_EARLY: approval request ${name} is expired at ${ts}, before its expiry at ${r.expiresAt} (${TOLERANCE})` : null;
    }
    if (at <= r.expires + APPROVAL_CLOCK_TOLERANCE_MS) return null;
    return `APPROVAL_${event.toUpperCase()}_AFTER_EXPIRY: approval request ${name} is ${event} at ${ts}, after it expired at ${r.expiresAt} (${TOLERANCE})`;
  }

  /**
   * The approvals recorded (each a distinct reviewer). The stores count people stricter (a
   * decision without names counts only as far as approval-rules.ts approvingPersons says): an
   * `approved` with at least this many is legal under the rules of every version.
   */
  private approvals(r: RequestState): number {
    let n = 0;
    for (const d of r.decisions.values()) if (d === 'approve') n++;
    return n;
  }
}
