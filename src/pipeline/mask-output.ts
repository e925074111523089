/**
 * The mask stage: content detectors over every string a tool returns (cells, streams, JSON
 * leaves), after the tool's own lineage masking. Reports what was masked, never the values.
 */
import type { ToolOutput } from '../tool-api.js';

/** Numbers from here up are scanned as text; why: the shortest card number has 13 digits. */
const LONG_NUMBER = 1e12;

/** What masking did to one result (recorded in the transcript). */
export interface MaskReport {
  columns: string[];
  detectors: Record<string, number>;
}

type Scanner = {
  scan(text: string): { text: string; hits: Record<string, number> };
  /** Hot path: adds to `hits`, returns the same string when nothing matched (no allocation). */
  maskInto?(text: string, hits: Record<string, number>): string;
  /** Custom detectors only, for fixed-format columns; null: skip those cells; absent: scan them in full. */
  maskFixedInto?: ((text: string, hits: Record<string, number>) => string) | null;
};

/**
 * Apply detectors to every string in the output; returns the masked output and the report.
 * Table rows are masked in place: the pipeline owns a tool's output, and a 1,000-row result is
 * not copied cell by cell. Columns marked fixedFormat (timestamps, UUIDs...) skip the built-in
 * detectors (custom ones still run), and numbers of 13+ digits are scanned as their text.
 */
export function maskOutput(out: ToolOutput, scanner: Scanner): { output: ToolOutput; report: MaskReport } {
  const hits: Record<string, number> = {};
  const add = (h: Record<string, number>) => {
    for (const k in h) hits[k] = (hits[k] ?? 0) + (h[k] ?? 0);
  };
  const maskInto = scanner.maskInto?.bind(scanner);
  const scanValue = (v: unknown, depth = 0): unknown => {
    // A number of 13+ digits can be a card number (a float8 holds 16 digits exactly): it is
    // scanned as its text and, when a detector fires, replaced by the masked text.
    if (typeof v === 'number') {
      if (!(Math.abs(v) >= LONG_NUMBER) || !Number.isFinite(v)) return v;
      const t = String(v);
      const m = scanValue(t, depth) as string;
      return m === t ? v : m;
    }
    if (typeof v === 'string') {
      if (maskInto) return maskInto(v, hits);
      const r = scanner.scan(v);
      if (r.text !== v) add(r.hits);
      return r.text;
    }
    if (v === null || typeof v !== 'object' || depth > 32) return v;
    if (Array.isArray(v)) return v.map((x) => scanValue(x, depth + 1));
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = scanValue(x, depth + 1);
    return o;
  };
  const columns: string[] = [];
  let output: ToolOutput;
  if (out.kind === 'table') {
    for (const c of out.columns) if (c.masked) columns.push(`${c.name}:${c.masked}`);
    // A scanner that cannot tell its custom detectors apart scans fixed-format cells in full.
    const fixed = out.columns.map((c) => c.fixedFormat === true && scanner.maskFixedInto !== undefined);
    const fixedInto = scanner.maskFixedInto ?? null;
    for (const row of out.rows) {
      for (let i = 0; i < row.length; i++) {
        const cell = row[i];
        if (cell === null || typeof cell === 'boolean' || (typeof cell === 'number' && !(Math.abs(cell) >= LONG_NUMBER))) continue;
        let masked: unknown;
        if (fixed[i] && typeof cell === 'string') {
          if (!fixedInto) continue;
          masked = fixedInto(cell, hits);
        } else masked = scanValue(cell);
        if (masked !== cell) row[i] = masked;
      }
    }
    output = out;
  } else if (out.kind === 'text') {
    const streams: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.streams)) streams[k] = scanValue(v) as string;
    output = { ...out, streams };
  } else {
    output = { ...out, data: scanValue(out.data) };
  }
  return { output, report: { columns, detectors: hits } };
}
