/**
 * Runs a compiled Scanner over whole tool outputs (tables, text streams, JSON) in one pass.
 * Inputs are never mutated: rows, objects and arrays are copied only where something changed.
 * Hit counts are aggregated by detector kind so transcripts can say what was masked, never what it was.
 */
import type { HitCounts } from './detectors.js';
import type { Scanner } from './scanner.js';

/** Masked rows plus aggregated hit counts, for ToolOutput kind 'table'. */
export interface TableScanResult {
  rows: unknown[][];
  hits: HitCounts;
}

/** Masked streams plus aggregated hit counts, for ToolOutput kind 'text'. */
export interface StreamsScanResult {
  streams: Record<string, string>;
  hits: HitCounts;
}

/** A masked JSON-ish value plus aggregated hit counts, for ToolOutput kind 'json'. */
export interface ValueScanResult {
  value: unknown;
  hits: HitCounts;
}

/** Nesting deeper than this is replaced wholesale: a cycle or a bomb must not escape unmasked. */
export const MAX_DEPTH = 64;
const TOO_DEEP = '[REDACTED]';
// Only integers this long can hold a card number; shorter numbers skip the string conversion.
const MIN_NUMERIC_CARD = 1e12;

/** Values that are not text and are passed through: dates, bytes, regexes. */
function isOpaque(v: object): boolean {
  return v instanceof Date || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof RegExp;
}

function maskValue(v: unknown, scanner: Scanner, hits: HitCounts, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      return scanner.maskInto(v, hits);
    case 'number': {
      if (!Number.isInteger(v) || Math.abs(v) < MIN_NUMERIC_CARD) return v;
      const s = String(v);
      const out = scanner.maskInto(s, hits);
      return out === s ? v : out;
    }
    case 'bigint': {
      const s = v.toString();
      const out = scanner.maskInto(s, hits);
      return out === s ? v : out;
    }
    case 'object':
      break;
    default:
      return v;
  }
  if (v === null) return v;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const out = maskValue(item, scanner, hits, depth + 1);
      if (out !== item) {
        copy ??= v.slice();
        copy[i] = out;
      }
    }
    return copy ?? v;
  }
  if (isOpaque(v)) return v;
  // Plain objects and any other object (e.g. a driver's custom type): walk own enumerable keys;
  // a changed one comes back as a plain object, since text inside it must not escape unmasked.
  const obj = v as Record<string, unknown>;
  let changed = false;
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    // Keys are scanned too: an email or token used as a map key is still an email or token.
    const outKey = scanner.maskInto(key, hits);
    const out = maskValue(item, scanner, hits, depth + 1);
    entries.push([outKey, out]);
    if (outKey !== key || out !== item) changed = true;
  }
  // fromEntries defines own data properties, so a "__proto__" key stays a plain key.
  return changed ? Object.fromEntries(entries) : v;
}

/** Masks every string cell (and the string leaves of JSON cells) of a result table. */
export function scanTable(rows: unknown[][], scanner: Scanner): TableScanResult {
  const hits: HitCounts = {};
  const out: unknown[][] = new Array<unknown[]>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[];
    if (!Array.isArray(row)) {
      // Not the row shape we expect (e.g. object rows): mask it as a value rather than skip it.
      out[r] = maskValue(row, scanner, hits, 0) as unknown[];
      continue;
    }
    let copy: unknown[] | null = null;
    for (let c = 0; c < row.length; c++) {
      const cell: unknown = row[c];
      const masked = typeof cell === 'string' ? scanner.maskInto(cell, hits) : maskValue(cell, scanner, hits, 0);
      if (masked !== cell) {
        copy ??= row.slice();
        copy[c] = masked;
      }
    }
    out[r] = copy ?? row;
  }
  return { rows: out, hits };
}

/** Masks command output streams (stdout, stderr, ...), each as one text. */
export function scanStreams(streams: Record<string, string>, scanner: Scanner): StreamsScanResult {
  const hits: HitCounts = {};
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(streams)) {
    out[name] = typeof text === 'string' ? scanner.maskInto(text, hits) : text;
  }
  return { streams: out, hits };
}

/** Masks the string leaves (and keys) of any JSON-ish value, e.g. Kubernetes objects. */
export function scanValue(value: unknown, scanner: Scanner): ValueScanResult {
  const hits: HitCounts = {};
  return { value: maskValue(value, scanner, hits, 0), hits };
}

/** Adds one hit map into another; the pipeline sums tables, streams and columns into one report. */
export function mergeHits(into: HitCounts, from: HitCounts): HitCounts {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  return into;
}
