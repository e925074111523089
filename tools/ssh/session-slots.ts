/**
 * The cap on concurrent sessions over one connection (max_sessions), first come first served.
 * A waiting call leaves the queue at its deadline or when it is cancelled: it is answered at
 * once, and it never starts later, after its caller was told it failed.
 */
import { within, type CallDeadline } from './call-deadline.js';

/** Hands out at most `max` slots; the release function passes a slot straight to the next waiter. */
export class SessionSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Wait for a slot until the deadline; resolves with its release function. */
  async acquire(d: CallDeadline, what: string): Promise<() => void> {
    if (this.active < this.max && this.waiting.length === 0) {
      this.active++;
      return this.releaser();
    }
    let wake!: () => void;
    const handed = new Promise<void>((resolve) => {
      wake = resolve;
      this.waiting.push(wake);
    });
    try {
      await within(handed, d, what);
    } catch (e) {
      const i = this.waiting.indexOf(wake);
      if (i >= 0) this.waiting.splice(i, 1);
      else this.releaser()(); // the slot reached us just as we gave up: pass it on
      throw e;
    }
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
