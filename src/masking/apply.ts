/**
 * Runs a compiled Scanner over whole tool outputs (tables, text streams, JSON) in one pass.
 * Inputs are never mutated: rows, objects and arrays are copied only where something changed.
 * Hit counts are aggregated by detector kind so transcripts can say what was masked, never what it was.
 */
import type { HitCounts } from './detectors.js';
import type { Scanner } from './scanner.js';
import { maskAny } from './walk.js';

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

function maskValue(v: unknown, scanner: Scanner, hits: HitCounts): unknown {
  return maskAny(v, scanner.maskInto, hits);
}

/** Masks every string cell (and the string leaves of JSON cells) of a result table. */
export function scanTable(rows: unknown[][], scanner: Scanner): TableScanResult {
  const hits: HitCounts = {};
  const out: unknown[][] = new Array<unknown[]>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[];
    if (!Array.isArray(row)) {
      // Not the row shape we expect (e.g. object rows): mask it as a value rather than skip it.
      out[r] = maskValue(row, scanner, hits) as unknown[];
      continue;
    }
    let copy: unknown[] | null = null;
    for (let c = 0; c < row.length; c++) {
      const cell: unknown = row[c];
      const masked = typeof cell === 'string' ? scanner.maskInto(cell, hits) : maskValue(cell, scanner, hits);
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
    out[name] = maskValue(text, scanner, hits) as string;
  }
  return { streams: out, hits };
}

/** Masks the string leaves (and keys) of any JSON-ish value, e.g. Kubernetes objects. */
export function scanValue(value: unknown, scanner: Scanner): ValueScanResult {
  const hits: HitCounts = {};
  return { value: maskValue(value, scanner, hits), hits };
}

/** Adds one hit map into another; the pipeline sums tables, streams and columns into one report. */
export function mergeHits(into: HitCounts, from: HitCounts): HitCounts {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  return into;
}
