/**
 * The reviewer UI's transcript reads, one at a time. Why: SQLite reads are synchronous and run on
 * the event loop that also serves the agents' MCP calls (`serve --http` mounts the UI), and a
 * free-text prefix search over a large store costs tens to hundreds of milliseconds. Requests
 * that arrived together ran back to back, so an MCP call waited behind every one of them; here
 * each read starts in a later turn of the event loop (setImmediate), so whatever I/O arrived
 * meanwhile (an agent's call) runs between two reads and waits at most one. Reads queued or
 * running are capped per reviewer identity and in all; past a cap the request is refused with
 * WARDEN_RATE_LIMITED (HTTP 429, Retry-After), never queued without bound.
 */
import { ErrorCode, WardenError } from '../errors.js';

/** Transcript reads one reviewer identity may have queued or running. */
export const MAX_READS_PER_REVIEWER = 4;
/** Transcript reads the whole UI may have queued or running. */
export const MAX_READS = 16;

/** The queue of UI reads. */
export class ReadGate {
  private readonly queue: Array<() => void> = [];
  private readonly perOwner = new Map<string, number>();
  private total = 0;
  private busy = false;

  constructor(private readonly perReviewer = MAX_READS_PER_REVIEWER, private readonly all = MAX_READS) {}

  /** Run `fn` when its turn comes; throws WARDEN_RATE_LIMITED at once when `owner` or the UI is at its cap. */
  async run<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const mine = this.perOwner.get(owner) ?? 0;
    if (mine >= this.perReviewer || this.total >= this.all) {
      throw new WardenError(ErrorCode.RATE_LIMITED, mine >= this.perReviewer
        ? `too many transcript reads in progress for this reviewer (at most ${this.perReviewer}); wait for them to finish`
        : `too many transcript reads in progress (at most ${this.all} in all); try again in a moment`, { retryAfterSeconds: 1 });
    }
    this.perOwner.set(owner, mine + 1);
    this.total++;
    try {
      await new Promise<void>((resolve) => {
        this.queue.push(resolve);
        this.pump();
      });
      return await fn();
    } finally {
      const n = (this.perOwner.get(owner) ?? 1) - 1;
      if (n <= 0) this.perOwner.delete(owner);
      else this.perOwner.set(owner, n);
      this.total--;
      this.busy = false;
      this.pump();
    }
  }

  /** Start the next read in a later turn of the event loop (pending I/O runs first). */
  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    setImmediate(() => this.queue.shift()?.());
  }
}
