/**
 * A principal's share of one pool (max_per_principal): at most that many of the pool's sessions
 * serve that principal's calls at once, its statements' and its calls' catalog lookups' alike
 * (connector.ts lookupSession). Why: pg's pool is first come, first served, so one principal's
 * slow reads (a pg_sleep, a query waiting on a lock, a big sort, a lookup of a view's definition
 * behind a lock) could take every session of a connection and every other principal's call
 * waited for one, then failed at the pool's wait; rate limits' `concurrent:` is opt-in. With a
 * share below pool_size another principal always finds a session free of this one's calls.
 * Past its share a call waits in its principal's own queue (others pass it), first come first
 * served, for at most `waitMs` (the pool's own wait for a session; a lookup after its call's
 * statement ran waits without limit: Caller.ran), then is refused with WARDEN_RATE_LIMITED; a
 * client's cancel takes it out of the queue at once. O(1) per call: a counter and a queue per
 * principal, dropped when it has neither.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { cancelledError } from './statement-cancel.js';

/**
 * Whose call a session serves: its principal (principalKey) and its client's cancel. Why: the
 * principal's share counts every session its call takes, the statement's and each catalog
 * lookup's alike (connector.ts), and a cancel takes a call waiting for one out of the queue.
 * Omitted (or no principal): Warden's own, counted as one principal.
 */
export interface Caller {
  principal?: string;
  signal?: AbortSignal;
  /**
   * Its statement has run (a lookup for its result's fields): a lookup then waits for a slot as
   * long as its principal's other calls hold the share, never refused (a write it made is
   * committed; a refusal would invite running it again).
   */
  ran?: boolean;
  /**
   * Of a write: the constraint facts its checks were judged by, per relation (JSON, 'null' for
   * none), re-read inside its transaction before its statement (catalog-lock.ts).
   */
  judged?: Map<string, string>;
  /**
   * Of a call under masks: the print of each view definition its checks used (view-prints.ts),
   * compared with the catalog's after its statement, before its rows are returned.
   */
  viewPrints?: Map<string, string>;
  /**
   * Of a call under masks or deny rules: the print of each relation whose kind, columns or
   * family its checks used (relation-prints.ts), compared with the catalog's by its statement's trailer.
   */
  relationPrints?: Map<string, string>;
}

interface Share {
  active: number;
  waiting: (() => void)[];
}

/** Counts each principal's sessions in one pool against its share. */
export class PoolShares {
  private readonly shares = new Map<string, Share>();

  constructor(
    private readonly perPrincipal: number,
    /** Names the pool and the setting in a refusal: `connection db's read pool`. */
    private readonly what: string,
  ) {}

  /** A slot of `who`'s share when one is free now (its release function, idempotent), else null; why: no promise on a plain call's path. */
  tryAcquire(who: string): (() => void) | null {
    let s = this.shares.get(who);
    if (!s) this.shares.set(who, (s = { active: 0, waiting: [] }));
    if (s.active >= this.perPrincipal) return null;
    s.active++;
    return this.releaser(who, s);
  }

  /** A slot of `who`'s share; resolves with its release function (idempotent), waiting in `who`'s queue when none is free (`waitMs` Infinity: no limit). */
  async acquire(who: string, waitMs: number, signal?: AbortSignal): Promise<() => void> {
    const now = this.tryAcquire(who);
    if (now) return now;
    const s = this.shares.get(who)!;
    if (signal?.aborted) throw cancelledError('before the statement was sent');
    const share = s;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const leave = (e: Error): void => {
        const i = share.waiting.indexOf(wake);
        if (i >= 0) share.waiting.splice(i, 1);
        done();
        reject(e);
      };
      const onAbort = (): void => leave(cancelledError('while it waited for a session'));
      const timer = waitMs === Infinity ? undefined : setTimeout(
        () =>
          leave(
            new WardenError(
              ErrorCode.RATE_LIMITED,
              `${this.what}: your calls already hold your share of its sessions (max_per_principal: ${this.perPrincipal}) and none ended in time; retry when one of your statements has ended`,
              { reason: 'pool share per principal' },
            ),
          ),
        waitMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      share.waiting.push(wake);
    });
    // The slot was handed over by a release: `active` already counts it.
    return this.releaser(who, share);
  }

  /** Principals with a session or a waiting call (tests: no state outlives its use). */
  principals(): number {
    return this.shares.size;
  }

  private releaser(who: string, s: Share): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.waiting.shift();
      if (next) return next(); // handed on: the count stays
      s.active--;
      if (s.active === 0 && this.shares.get(who) === s) this.shares.delete(who);
    };
  }
}
