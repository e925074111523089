/**
 * The cap on concurrent sessions over one connection (max_sessions), shared fairly between
 * principals. A principal holds at most `perPrincipal` sessions at once (max_sessions_per_principal),
 * even while others are free: without that, one principal that fires slow commands on every slot
 * makes every other principal wait out its deadline. A freed slot goes to the waiting principal
 * that holds the fewest sessions, then to the one served least recently (then the one that
 * started waiting first); a principal's own calls keep their order.
 * A waiting call leaves the queue at its deadline or when it is cancelled: it is answered at
 * once, and it never starts later, after its caller was told it failed.
 * A limit learnt from a host's refusal (setLimit) may be too low (sessions ended at the moment of
 * the refusal): while calls queue at it, it is probed upward one session at a time (accepted,
 * refusedAt), so it never stays below the host's real limit for the connection's life.
 */
import { within, type CallDeadline } from './call-deadline.js';

/** One principal's sessions and waiting calls (dropped when it has neither). */
interface Share {
  active: number;
  waiting: (() => void)[];
  /** Sequence number of its latest grant (0: none since it last held or awaited a session). */
  lastGrant: number;
}

/** Sessions the host accepts at a learnt limit, with calls queued, before one more is tried. */
export const PROBE_AFTER = 8;
/** The most accepted sessions between tries once tries were refused (each refusal doubles the wait). */
const PROBE_AFTER_MAX = 256;
/**
 * Sessions the host must accept above the old limit before a try holds. Why more than one: the
 * client counts a session open until its close event, which ssh2 emits after sshd has already
 * freed it, so one accepted session over the old limit can be luck (a session that was ending),
 * not a higher limit; until the try holds, a refusal puts the old limit back, quietly.
 */
export const CONFIRM_TRIES = 3;

/** Hands out at most `max` slots, at most `perPrincipal` of them to one principal. */
export class SessionSlots {
  private active = 0;
  private grants = 0;
  private readonly shares = new Map<string, Share>();
  private perPrincipal: number;
  private max: number;
  /** Sessions accepted at the limit, with calls queued, since the limit last changed. */
  private full = 0;
  /** Accepted sessions at the limit before the next try; doubles after each refused try. */
  private probeAfter = PROBE_AFTER;
  /** While one more session is tried: the limit before the try (the host held that many at once). */
  private probeFrom: number | null = null;
  /** Sessions accepted above probeFrom during the current try. */
  private confirmed = 0;

  constructor(
    private readonly configuredMax: number,
    private readonly configuredPerPrincipal: number = configuredMax,
  ) {
    this.max = configuredMax;
    this.perPrincipal = Math.max(1, Math.min(configuredPerPrincipal, configuredMax));
  }

  /** The slots handed out at most now (the configured number, or a host's lower limit). */
  get limit(): number {
    return this.max;
  }

  /**
   * Hand out at most `n` slots from now on (at most the configured number, at least 1); the
   * share per principal shrinks with it. Slots already out stay out; a raise serves waiters.
   * Why: a host can allow fewer sessions per connection than Warden's max_sessions (sshd
   * MaxSessions); the connector learns that from a refusal.
   */
  setLimit(n: number): void {
    this.endTry();
    // A new connection starts at the configured number, with tries as often as at first.
    if (n >= this.configuredMax) this.probeAfter = PROBE_AFTER;
    this.setMax(n);
  }

  /** True while one session over the learnt limit is being tried. */
  get probing(): boolean {
    return this.probeFrom !== null;
  }

  /**
   * True when a refusal with `open` sessions open is the try's: the host held the old limit's
   * sessions and refused one more. With fewer open, a session that just ended may not be freed
   * on the host yet: that refusal is a race, asked again like any other.
   */
  refusesTry(open: number): boolean {
    return this.probeFrom !== null && open >= this.probeFrom;
  }

  /**
   * The host accepted a session with `open` of this connection's sessions open (it included).
   * Above the limit before a try, CONFIRM_TRIES times: the try succeeded, the new limit holds. At a learnt limit with
   * calls queued, every PROBE_AFTER-th such session raises the limit by one (up to the configured
   * number) and hands the slot to a waiter: the try. Why probe rather than keep the learnt limit:
   * a limit learnt while sessions were ending can be below the host's, and nothing else would
   * ever raise it on this connection.
   */
  accepted(open: number): void {
    if (this.probeFrom !== null && open > this.probeFrom && ++this.confirmed >= CONFIRM_TRIES) {
      this.endTry();
      this.probeAfter = PROBE_AFTER;
    }
    if (this.probeFrom !== null || this.max >= this.configuredMax || open < this.max || !this.queued()) return;
    if (++this.full < this.probeAfter) return;
    this.probeFrom = this.max;
    this.confirmed = 0;
    this.setMax(this.max + 1);
  }

  /**
   * The host refused a session at its limit with `open` of this connection's sessions open.
   * During a try: back to the limit before it, and the next try waits twice as long ('probe').
   * Otherwise the sessions open become the limit when below it ('lowered'), or nothing changes.
   */
  refusedAt(open: number): 'probe' | 'lowered' | 'kept' {
    if (this.probeFrom !== null) {
      const back = this.probeFrom;
      this.endTry();
      this.probeAfter = Math.min(this.probeAfter * 2, PROBE_AFTER_MAX);
      this.setMax(back);
      return 'probe';
    }
    if (open >= this.max) return 'kept';
    this.setMax(open);
    return 'lowered';
  }

  /**
   * A try that has not held yet ends, quietly and without doubling the wait, once nobody queues
   * and no more than the old limit's sessions are out: the limit then is the one the host proved.
   * Why: a try is worth its risk only while calls wait; left open, the limit would show (and
   * hand out) a number the host never confirmed.
   */
  private abandonIdleTry(): void {
    if (this.probeFrom === null || this.active > this.probeFrom || this.queued()) return;
    const back = this.probeFrom;
    this.endTry();
    this.setMax(back);
  }

  private endTry(): void {
    this.probeFrom = null;
    this.confirmed = 0;
  }

  private setMax(n: number): void {
    this.max = Math.max(1, Math.min(Math.trunc(n), this.configuredMax));
    this.perPrincipal = Math.max(1, Math.min(this.configuredPerPrincipal, this.max));
    this.full = 0;
    this.dispatch();
  }

  private queued(): boolean {
    for (const s of this.shares.values()) if (s.waiting.length) return true;
    return false;
  }

  /**
   * Wait for a slot for principal `who` until the deadline; resolves with its release function.
   * `what(overShare)` names what was awaited in the timeout error: `overShare` is true when, at
   * the deadline, the principal's own calls held its whole share.
   */
  async acquire(d: CallDeadline, who: string, what: (overShare: boolean) => string): Promise<() => void> {
    const s = this.share(who);
    // Every waiter that could take a free slot already has one (dispatch runs on each release),
    // so a caller that finds a free slot within its share passes nobody who may take it.
    if (this.active < this.max && s.active < this.perPrincipal) {
      this.grant(s);
      return this.releaser(who);
    }
    let wake!: () => void;
    const handed = new Promise<void>((resolve) => {
      wake = resolve;
      s.waiting.push(wake);
    });
    try {
      await within(handed, d, () => what(s.active >= this.perPrincipal));
    } catch (e) {
      const i = s.waiting.indexOf(wake);
      if (i >= 0) {
        s.waiting.splice(i, 1);
        this.forgetIdle(who, s);
      } else {
        this.releaser(who)(); // the slot reached us just as we gave up: pass it on
      }
      throw e;
    }
    return this.releaser(who);
  }

  /** Principals with a session or a waiting call (tests: no state outlives its use). */
  principals(): number {
    return this.shares.size;
  }

  private share(who: string): Share {
    let s = this.shares.get(who);
    if (!s) this.shares.set(who, (s = { active: 0, waiting: [], lastGrant: 0 }));
    return s;
  }

  private forgetIdle(who: string, s: Share): void {
    if (s.active === 0 && s.waiting.length === 0 && this.shares.get(who) === s) this.shares.delete(who);
  }

  private grant(s: Share): void {
    this.active++;
    s.active++;
    s.lastGrant = ++this.grants;
  }

  /** Hand free slots to waiters: fewest sessions first, then least recently served (Map order breaks ties). */
  private dispatch(): void {
    while (this.active < this.max) {
      let best: Share | undefined;
      for (const s of this.shares.values()) {
        if (s.waiting.length === 0 || s.active >= this.perPrincipal) continue;
        if (!best || s.active < best.active || (s.active === best.active && s.lastGrant < best.lastGrant)) best = s;
      }
      if (!best) return;
      const wake = best.waiting.shift()!;
      this.grant(best);
      wake();
    }
  }

  private releaser(who: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const s = this.shares.get(who);
      if (!s) return; // unreachable: a share with a session is never dropped
      s.active--;
      this.active--;
      this.forgetIdle(who, s);
      this.dispatch();
      this.abandonIdleTry();
    };
  }
}
