/**
 * Compact integer lists for the encoded-secret scan (alphabet-runs.ts, encoded-runs.ts,
 * word-runs.ts): its arrays are as long as the output, so their bytes per entry are its memory
 * per output byte (a JS number array takes 8 bytes an entry, an Int32Array 4).
 */

/**
 * An ascending list of non-negative integers (text indices, character indices) in 2 bytes an
 * entry: each entry's low 16 bits, and per block of 65536 values the index of its first entry.
 * Why: a position array as long as the text, 4 bytes an entry, was a large part of the scan's peak.
 */
export class Ascending {
  private readonly low: Uint16Array;
  /** Per block of 65536 values (value >>> 16), the index of the first entry in it or after it. */
  private firstIn: Int32Array;
  private blocks = 0;
  /** The least value whose append starts a new block (push's slow path). */
  private next = 0;
  n = 0;

  /** `low`: room for every entry (Scratch). */
  constructor(low: Uint16Array) {
    this.low = low;
    this.firstIn = new Int32Array(16);
  }

  /** Append x (not less than the last entry). */
  push(x: number): void {
    if (x >= this.next) this.begin(x, this.n);
    this.low[this.n++] = x & 0xffff;
  }

  /**
   * For a hot loop that writes `lows()` itself: x, entry n, begins a new block; returns the
   * least value that begins the next one. The loop sets `n` when done.
   */
  begin(x: number, n: number): number {
    this.n = n;
    const h = x >>> 16;
    if (h >= this.firstIn.length) {
      const grown = new Int32Array(Math.max(h + 1, 2 * this.firstIn.length));
      grown.set(this.firstIn);
      this.firstIn = grown;
    }
    while (this.blocks <= h) this.firstIn[this.blocks++] = this.n;
    return (this.next = this.blocks * 65536);
  }

  /** The entries' low 16 bits (a Uint16Array store keeps those of a larger value). */
  lows(): Uint16Array {
    return this.low;
  }

  /** Drop the entries [a, b), those after move down (a base32 run not kept, alphabet-runs.ts). */
  drop(a: number, b: number): void {
    if (a === b) return;
    this.low.copyWithin(a, b, this.n);
    this.n -= b - a;
    for (let h = this.blocks - 1; h >= 0 && this.firstIn[h]! > a; h--) this.firstIn[h] = this.firstIn[h]! >= b ? this.firstIn[h]! - (b - a) : a;
  }

  /**
   * For a loop that keeps some entries in place (alphabet-runs.ts hexOf, decimalOf): before
   * reading entry j, when j reached the last call's second result, `blocks.moveTo(j, w)` (w: the
   * entries kept so far) returns entry j's block base (its value minus its low 16 bits) and the
   * first entry of a later block; after the loop, `blocks.end(w)`.
   */
  compactor(): { moveTo: (j: number, w: number) => [number, number]; end: (w: number) => void } {
    let h = 0;
    const firstIn = this.firstIn;
    const blocks = this.blocks;
    return {
      moveTo: (j, w) => {
        // Each block's first entry moves to the first kept one in it or after it.
        while (h < blocks && firstIn[h]! <= j) firstIn[h++] = w;
        return [(h - 1) * 65536, h < blocks ? firstIn[h]! : Infinity];
      },
      end: (w) => {
        while (h < blocks) firstIn[h++] = w;
        this.n = w;
      },
    };
  }

  /** Entry i (0 <= i < n). */
  get(i: number): number {
    // The last block whose first entry is i or before: binary search (a lookup per found span, not per byte).
    let lo = 0;
    let hi = this.blocks - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstIn[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo * 65536 + this.low[i]!;
  }
}

/** A growable list of int32 (4 bytes an entry, where a JS number array takes 8). */
export class IntList {
  a = new Int32Array(16);
  n = 0;

  push(x: number): void {
    if (this.n === this.a.length) {
      const grown = new Int32Array(2 * this.a.length);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[this.n++] = x;
  }
}

/**
 * The scan's large arrays, one of each kind for a whole text (every alphabet, alignment and
 * reading in turn): each is written from its start before it is read, so one decoding reuses
 * the last one's memory. Why: a fresh array each time left the last ones' memory to the garbage
 * collector, and the peak held several of them at once.
 */
export class Scratch {
  private u8 = new Uint8Array(0);
  private pos16 = new Uint16Array(0);
  private i16 = new Int16Array(0);
  private at16 = new Uint16Array(0);

  /** An alphabet's character values (alphabet-runs.ts). */
  vals(n: number): Uint8Array {
    if (this.u8.length < n) this.u8 = new Uint8Array(n);
    return this.u8.subarray(0, n);
  }

  /** An alphabet's characters' text indices (low 16 bits: Ascending). */
  pos(n: number): Uint16Array {
    if (this.pos16.length < n) this.pos16 = new Uint16Array(n);
    return this.pos16.subarray(0, n);
  }

  /** A decoding's bytes (encoded-runs.ts, word-runs.ts). */
  bytes(n: number): Int16Array {
    if (this.i16.length < n) this.i16 = new Int16Array(n);
    return this.i16.subarray(0, n);
  }

  /** A numbers' or groups' decoding's first digits (low 16 bits: Ascending). */
  at(n: number): Uint16Array {
    if (this.at16.length < n) this.at16 = new Uint16Array(n);
    return this.at16.subarray(0, n);
  }
}
