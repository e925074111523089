/**
 * The cap on concurrent sessions over one connection (max_sessions), shared fairly between
 * principals. A principal holds at most `perPrincipal` sessions at once (max_sessions_per_principal),
 * even while others are free: without that, one principal that fires slow commands on every slot
 * makes every other principal wait out its deadline. A freed slot goes to the waiting principal
 * that holds the fewest sessions, then to the one served least recently (then the one that
 * started waiting first); a principal's own calls keep their order.
 * A waiting call leaves the queue at its deadline or when it is cancelled: it is answered at
 * once, and it never starts later, after its caller was told it failed.
 */
import { within, type CallDeadline } from './call-deadline.js';

/** One principal's sessions and waiting calls (dropped when it has neither). */
interface Share {
  active: number;
  waiting: (() => void)[];
  /** Sequence number of its latest grant (0: none since it last held or awaited a session). */
  lastGrant: number;
}

/** Hands out at most `max` slots, at most `perPrincipal` of them to one principal. */
export class SessionSlots {
  private active = 0;
  private grants = 0;
  private readonly shares = new Map<string, Share>();
  private perPrincipal: number;
  private max: number;

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
    this.max = Math.max(1, Math.min(Math.trunc(n), this.configuredMax));
    this.perPrincipal = Math.max(1, Math.min(this.configuredPerPrincipal, this.max));
    this.dispatch();
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
    };
  }
}
