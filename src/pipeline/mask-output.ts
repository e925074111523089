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

/** After this many distinct texts, a column whose cells mostly do not repeat stops being remembered. */
const REPEAT_PROBE = 64;

/**
 * `maskText` remembering what it answered for each text, within one result: a repeated text
 * gets the same masked text and adds the same hits (the detectors are pure functions of the
 * text), without scanning it again. Why: a column mask's outputs repeat (`partial` leaves
 * "u***@example.com" on every row of one domain) and each contains the characters (`@`) that
 * send a cell through the detectors; `hash` outputs are distinct by design and not remembered.
 * A column that turns out mostly distinct (fewer repeats than distinct texts after
 * REPEAT_PROBE of them) is scanned cell by cell from then on, as without this.
 */
function repeatMasker(maskText: MaskText): MaskText {
  let seen: Map<string, string> | null = new Map();
  const found = new Map<string, Record<string, number>>();
  let own: Record<string, number> = {};
  let repeats = 0;
  return (text, hits) => {
    if (seen === null) return maskText(text, hits);
    const known = seen.get(text);
    if (known !== undefined) {
      repeats++;
      const h = found.size ? found.get(text) : undefined;
      if (h) for (const k in h) hits[k] = (hits[k] ?? 0) + (h[k] ?? 0);
      return known;
    }
    const masked = maskText(text, own);
    let any = false;
    for (const k in own) {
      any = true;
      hits[k] = (hits[k] ?? 0) + (own[k] ?? 0);
    }
    if (any) {
      found.set(text, own);
      own = {};
    }
    seen.set(text, masked);
    if (seen.size >= REPEAT_PROBE && repeats < seen.size) seen = null;
    return masked;
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
    // A column mask's output repeats (partial keeps a character and the domain, redact is one
    // word): its cells are scanned once per distinct text in this result (repeatMasker).
    const repeats = out.columns.map((c) => (c.masked && c.masked !== 'hash' ? repeatMasker(maskText) : null));
    for (const row of out.rows) {
      for (let i = 0; i < row.length; i++) {
        const cell = row[i];
        if (cell === null || typeof cell === 'boolean' || (typeof cell === 'number' && !(Math.abs(cell) >= LONG_NUMBER))) continue;
        let masked: unknown;
        if (fixed[i] && typeof cell === 'string') {
          if (!fixedInto) continue;
          masked = fixedInto(cell, hits);
        } else if (typeof cell === 'string') masked = (repeats[i] ?? maskText)(cell, hits);
        else masked = maskAny(cell, maskText, hits);
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
