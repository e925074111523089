/**
 * Where a Secret's values occur in decoded bytes (encoded-runs.ts, word-runs.ts), for
 * secret-encodings.ts: Knuth-Morris-Pratt, time linear in the bytes for each value whatever its
 * length, run only from the places where a value's first HEAD bytes occur (the decoders tell
 * where its first two do: `pairs`), so an output where no value's head occurs costs no search.
 */
import type { Decoded } from './encoded-runs.js';
import { pairTable } from './encoded-runs.js';
import { IntList } from './int-lists.js';

export interface Value {
  bytes: Uint8Array;
  fail: Int32Array | null;
  /** The bytes reversed, and their failure table (a suffix at a cut start). */
  rev: Uint8Array | null;
  failRev: Int32Array | null;
}

/** The KMP failure table of `p` (built on first use, kept with its value). */
export function failTable(p: Uint8Array): Int32Array {
  const fail = new Int32Array(p.length);
  for (let i = 1, k = 0; i < p.length; i++) {
    while (k > 0 && p[i] !== p[k]) k = fail[k - 1]!;
    if (p[i] === p[k]) k++;
    fail[i] = k;
  }
  return fail;
}

const failOf = (v: Value): Int32Array => (v.fail ??= failTable(v.bytes));

/**
 * The longest suffix of the value that `d.bytes[from, to)` begins with (KMP over both reversed),
 * read from at most the value's length of bytes: linear in it.
 */
export function suffixAtStart(d: Decoded, v: Value, from: number, to: number): number {
  const L = v.bytes.length;
  const rev = (v.rev ??= v.bytes.slice().reverse());
  const fail = (v.failRev ??= failTable(rev));
  let k = 0;
  for (let i = Math.min(to, from + L) - 1; i >= from; i--) {
    const x = d.bytes[i]!;
    if (k === L) k = fail[k - 1]!;
    while (k > 0 && x !== rev[k]) k = fail[k - 1]!;
    if (x === rev[k]) k++;
  }
  return k;
}

/** Tell `found` each place of `d.bytes[from, to)` where the value ends (the index after it); returns the state at `to`. */
export function search(d: Decoded, v: Value, from: number, to: number, found: (endIndex: number) => void): number {
  const p = v.bytes;
  const fail = failOf(v);
  const bytes = d.bytes;
  let k = 0;
  for (let i = from; i < to; i++) {
    const x = bytes[i]!;
    if (x < 0) {
      k = 0;
      continue;
    }
    while (k > 0 && x !== p[k]) k = fail[k - 1]!;
    if (x === p[k]) k++;
    if (k === p.length) {
      found(i + 1);
      k = fail[k - 1]!;
    }
  }
  return k;
}

/** Bytes of a value's head: the prefilter's window, and the least value (or cut-end prefix) looked for. */
export const HEAD = 4;

/**
 * The values' heads (first HEAD bytes): a value is searched for only from where its head occurs
 * (candidates). Why: the decoders find those places for all values in the pass that decodes,
 * where each value's search over all bytes is a pass of its own; a value's match, or its prefix
 * at a cut end (HEAD bytes or more), begins with those bytes.
 */
export interface Heads {
  /** The values' first two bytes, for the decoders to tell where they occur (encoded-runs.ts `hits`). */
  pairs: Uint8Array;
  /** The values (indices) by their first HEAD bytes. */
  byHead: Map<number, number[]>;
}

export function headsOf(values: readonly Value[]): Heads {
  const pairs = pairTable();
  const byHead = new Map<number, number[]>();
  for (const [i, v] of values.entries()) {
    const b = v.bytes;
    const h = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    pairs[h >>> 16] = 1;
    byHead.set(h, [...(byHead.get(h) ?? []), i]);
  }
  return { pairs, byHead };
}

/**
 * Where in `d` each value may begin: the places of its first HEAD bytes, from the decoder's hits
 * of their first two (values of one head share a list; each place is one head's, so the lists
 * hold at most `d.n` places in all); absent: none.
 */
export function candidates(d: Decoded, heads: Heads): Map<number, IntList> {
  const out = new Map<number, IntList>();
  const bytes = d.bytes;
  const hits = d.hits;
  for (let j = 0; j < hits.n; j++) {
    const i = hits.a[j]!;
    // The hit's pair, then two more bytes of its segment (a break is -1: no byte).
    const x = bytes[i + 2]!;
    const y = bytes[i + 3]!;
    if (i + 3 >= d.n || x < 0 || y < 0) continue;
    const h = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (x << 8) | y) >>> 0;
    const hit = heads.byHead.get(h);
    if (!hit) continue;
    let at = out.get(hit[0]!);
    if (!at) {
      at = new IntList();
      for (const v of hit) out.set(v, at);
    }
    at.push(i);
  }
  return out;
}

/**
 * search's matches over all of `d`, the automaton run only from the value's candidate places on
 * (`at`, ascending) and while it holds a partial match: where it holds none, no match begins
 * before the next candidate. Each byte is read at most once: linear, and in an output where the
 * value's head is rare, about the candidates' count.
 */
export function searchAt(d: Decoded, v: Value, places: IntList, found: (endIndex: number) => void): void {
  const p = v.bytes;
  const L = p.length;
  const fail = failOf(v);
  const bytes = d.bytes;
  const at = places.a;
  let k = 0;
  let c = 0;
  for (let i = 0; i < d.n; i++) {
    if (k === 0) {
      while (c < places.n && at[c]! < i) c++;
      if (c === places.n) return;
      i = at[c++]!;
    }
    const x = bytes[i]!;
    if (x < 0) {
      k = 0;
      continue;
    }
    while (k > 0 && x !== p[k]) k = fail[k - 1]!;
    if (x === p[k]) k++;
    if (k === L) {
      found(i + 1);
      k = fail[k - 1]!;
    }
  }
}
