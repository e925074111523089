/**
 * Base32's part of the encoded-secret scan (alphabet-runs.ts scanRuns): which runs are kept
 * (end32), and where base32's scan reads at all (Windows32, found by base64's scan). Why the
 * ranges: base32's pass over the whole text, lower case too wherever 10 lower-case letters stood
 * in a row (nearly all prose), was about a fifth of the scan's CPU on mixed output, and nearly
 * all text (prose, JSON, log lines, base64, hex dumps) holds no base32 run long enough to keep.
 */
import { IntList, type Ascending } from './int-lists.js';

/**
 * Base32's scan: the kept runs' ends, the current run's start, whether a break came before it,
 * its case (0: digits only so far, 1 upper, 2 lower), the count after its last letter, and its
 * longest stretch of characters next to each other in the text (`stretch`: the current one's).
 */
export interface Base32State {
  starts: number[];
  run: number;
  broken: boolean;
  runBroken: boolean;
  first: boolean;
  kase: number;
  afterLetter: number;
  stretch: number;
  runStretch: number;
}

/**
 * A lower-case base32 run is kept only with this many characters in a row (its `=` padding
 * counted). Why: lower-case prose is one long run (only a capital or `0`, `1`, `8`, `9` breaks
 * it), decoded at 8 alignments for nothing; `base32` prints 76 characters a line, a value of 10
 * bytes or more 16 in a row.
 */
export const LOWER_STRETCH = 16;

/**
 * A base32 run ends at `split` (the characters from there to n begin the next run): kept, or
 * dropped when shorter than min32 or, lower case, without min32 characters in a row (its
 * characters' places too); the characters' count after.
 */
export function end32(s: Base32State, split: number, n: number, min32: number, pos: Ascending, vals: Uint8Array): number {
  const kase = s.kase;
  const runStretch = s.runStretch;
  s.kase = 0;
  s.runStretch = 0;
  if (split === s.run) return n;
  if (split - s.run >= min32 && (kase !== 2 || runStretch >= Math.max(min32, LOWER_STRETCH))) {
    if (s.starts.length === 1) s.first = !s.runBroken;
    s.starts.push(split);
    s.run = split;
    if (split < n) s.runBroken = true;
    return n;
  }
  // Dropped: the next run's first characters (digits) move to where it began.
  pos.n = n;
  pos.drop(s.run, split);
  vals.copyWithin(s.run, split, n);
  if (split < n) s.runBroken = true;
  return pos.n;
}

/**
 * The text ranges base32's scan reads, found by base64's scan (every base32 character, and every
 * letter or digit that breaks a base32 run, is one of base64's): flat triples [start, end,
 * lower], lower 1 where lower case is read too. A range begins after a break (or at 0) and ends
 * at the next (or the text's end), so base32's scan of the ranges alone keeps the same runs as
 * of the whole text:
 * - upper case: a run of `min32` base32 characters or more, no lower-case letter or `0`, `1`,
 *   `8`, `9` between (those break it), from the break before it to the one after;
 * - lower case: LOWER_STRETCH characters in a row (base32's of either case, `=` counted; the
 *   stretch base32's scan counts is never longer), from the `0`, `1`, `8` or `9` before it to
 *   the one after (in lower case only those break a run); the upper-case ranges in it go.
 * Elsewhere no run is kept: a lower-case run needs that stretch and an upper-case one that length.
 */
export class Windows32 {
  /** The ranges as flat triples (int32; ranges of one case less than MERGE apart are one, so they stay few). */
  readonly at = new IntList();
  /** 0 none open, 1 an upper-case range, 2 a lower-case one. */
  open = 0;

  constructor(private readonly min32: number) {}

  /**
   * An upper-case run of min32 (`from`: after the break before it), unless a range is open. An
   * upper-case range that ended less than MERGE characters before is taken on to here: base32's
   * scan reads the text between as it would (upper case, its breaks kept, its short runs
   * dropped), and `xxd`'s or a log's many short ranges stay few.
   */
  upper(from: number): void {
    if (this.open !== 0) return;
    const a = this.at.a;
    const k = this.at.n - 3;
    if (k >= 0 && a[k + 2] === 0 && a[k + 1]! + MERGE >= from) a[k + 1] = -1;
    else this.push(from, 0);
    this.open = 1;
  }

  /**
   * A lower-case stretch long enough: a lower-case range from `from` (after a hard break), the
   * ranges that begin in it dropped and one that began before ended at that break; or a
   * lower-case range that ended less than MERGE characters before taken on to here, the text
   * between read in lower case too (as the whole text was before the ranges), its ranges dropped.
   */
  lower(from: number): void {
    const at = this.at;
    while (at.n > 0 && at.a[at.n - 3]! >= from) at.n -= 3;
    let k = at.n - 3;
    while (k >= 0 && at.a[k + 2] === 0 && at.a[k]! + MERGE >= from) k -= 3;
    if (k >= 0 && at.a[k + 2] === 1 && at.a[k + 1]! + MERGE >= from) {
      at.a[k + 1] = -1;
      at.n = k + 3;
      this.open = 2;
      return;
    }
    if (at.n > 0 && (at.a[at.n - 2] === -1 || at.a[at.n - 2]! > from - 1)) at.a[at.n - 2] = from - 1;
    this.push(from, 1);
    this.open = 2;
  }

  private push(from: number, lower: number): void {
    this.at.push(from);
    this.at.push(-1);
    this.at.push(lower);
  }

  /** A break at `i`: `hard` (`0`, `1`, `8`, `9`) ends either range, a lower-case letter an upper-case one. */
  close(i: number, hard: boolean): void {
    if (this.open === 1 || (hard && this.open === 2)) {
      this.at.a[this.at.n - 2] = i;
      this.open = 0;
    }
  }

  /** The ranges, the last ended at the text's end `L` if open. */
  done(L: number): IntList {
    this.close(L, true);
    return this.at;
  }

  /** An upper-case run this long opens a range. */
  get least(): number {
    return Math.max(1, this.min32);
  }
}

/** Ranges of one case this close are one (Windows32.upper, lower). */
const MERGE = 256;
