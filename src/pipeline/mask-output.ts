/**
 * The mask stage: content detectors over every text a tool returns (cells, streams, JSON leaves
 * and keys, the text of bytes, long numbers, notes), after the tool's own lineage masking.
 * Reports what was masked, never the values. The walk itself is masking's (maskAny), so the
 * stage and the masking library agree on what is text and on what is too deep to walk.
 */
import { maskAny, type MaskText } from '../masking/index.js';
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

/** The scanner's hot path, or its `scan` adapted to the same shape. */
function textMasker(scanner: Scanner): MaskText {
  if (scanner.maskInto) return scanner.maskInto.bind(scanner);
  return (text, hits) => {
    const r = scanner.scan(text);
    if (r.text === text) return text;
    for (const k in r.hits) hits[k] = (hits[k] ?? 0) + (r.hits[k] ?? 0);
    return r.text;
  };
}

/**
 * Apply detectors to every text in the output; returns the masked output and the report.
 * Table rows are masked in place: the pipeline owns a tool's output, and a 1,000-row result is
 * not copied cell by cell. Columns marked fixedFormat (timestamps, UUIDs...) skip the built-in
 * detectors (custom ones still run), and numbers of 13+ digits are scanned as their text.
 * Notes are scanned too: a tool may quote what a backend said in one.
 */
export function maskOutput(out: ToolOutput, scanner: Scanner): { output: ToolOutput; report: MaskReport } {
  const hits: Record<string, number> = {};
  const maskText = textMasker(scanner);
  const columns: string[] = [];
  const notes = out.notes?.length ? { notes: out.notes.map((n) => maskText(n, hits)) } : {};
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
        } else masked = typeof cell === 'string' ? maskText(cell, hits) : maskAny(cell, maskText, hits);
        if (masked !== cell) row[i] = masked;
      }
    }
    output = { ...out, ...notes };
  } else if (out.kind === 'text') {
    const streams: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.streams)) streams[k] = maskAny(v, maskText, hits) as string;
    output = { ...out, streams, ...notes };
  } else {
    output = { ...out, data: maskAny(out.data, maskText, hits), ...notes };
  }
  return { output, report: { columns, detectors: hits } };
}
