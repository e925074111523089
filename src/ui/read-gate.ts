/**
 * The reviewer UI's transcript reads, one at a time. Why: SQLite reads are synchronous and run on
 * the event loop that also serves the agents' MCP calls (`serve --http` mounts the UI), and a
 * free-text prefix search over a large store costs tens to hundreds of milliseconds. Requests
 * that arrived together ran back to back, so an MCP call waited behind every one of them. Here
 * each read starts only after a pause as long as the event loop was busy during the one before
 * (at most MAX_PAUSE_MS): an agent's call is not one turn of the loop but a chain of them (the
 * request's socket, the pipeline's awaits, the transcript's group commit, the response), and with
 * only one turn between two reads each link of the chain waited behind a whole read (one call in
 * ten took ~2.7 s during a flood of 70 ms searches). With the pause, a call that arrived during a
 * read waits for that read only and then runs its whole chain while the UI pauses: the UI gives up
 * at most half the loop to a flood of reads, and a lone read is not delayed at all (nor one after a
 * cheap read: under PAUSE_FROM_MS). Reads queued or
 * running are capped per reviewer identity and in all; past a cap the request is refused with
 * WARDEN_RATE_LIMITED (HTTP 429, Retry-After), never queued without bound.
 */
import type { EventLoopUtilization } from 'node:perf_hooks';
import { performance } from 'node:perf_hooks';
import { ErrorCode, WardenError } from '../errors.js';

/** Transcript reads one reviewer identity may have queued or running. */
export const MAX_READS_PER_REVIEWER = 4;
/** Transcript reads the whole UI may have queued or running. */
export const MAX_READS = 16;
/** The longest pause between two queued reads; why: a very slow read must not stall the UI for as long again. */
export const MAX_PAUSE_MS = 1_000;
/**
 * A read that kept the loop busy for less than this does not pause the next; why: a page render
 * takes a few milliseconds, and a browser's burst of requests for one reviewer (a page and its
 * fragments) would otherwise queue up behind pauses and meet the per-reviewer cap.
 */
export const PAUSE_FROM_MS = 10;

/** The queue of UI reads. */
export class ReadGate {
  private readonly queue: Array<() => void> = [];
  private readonly perOwner = new Map<string, number>();
  private total = 0;
  private busy = false;
  /** How long the next queued read waits (the busy time of the last one, see pump). */
  private pauseMs = 0;

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
    let loop: EventLoopUtilization | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.queue.push(resolve);
        this.pump();
      });
      loop = performance.eventLoopUtilization();
      return await fn();
    } finally {
      const n = (this.perOwner.get(owner) ?? 1) - 1;
      if (n <= 0) this.perOwner.delete(owner);
      else this.perOwner.set(owner, n);
      this.total--;
      // The time the loop was busy while this read ran (a SQLite read's synchronous work; a
      // PostgreSQL store's reads wait on the network with the loop free, so they pause little).
      const busy = loop ? performance.eventLoopUtilization(loop).active : 0;
      this.pauseMs = busy >= PAUSE_FROM_MS ? Math.min(MAX_PAUSE_MS, busy) : 0;
      this.busy = false;
      this.pump();
    }
  }

  /**
   * Start the next read in a later turn of the event loop (pending I/O runs first), and after a
   * pause as long as the last read kept the loop busy (see the header).
   */
  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const next = () => this.queue.shift()?.();
    if (this.pauseMs > 0) setTimeout(next, this.pauseMs);
    else setImmediate(next);
  }
}
