/**
 * The mask stage: content detectors over every string a tool returns (cells, streams, JSON
 * leaves), after the tool's own lineage masking. Reports what was masked, never the values.
 */
import type { ToolOutput } from '../tool-api.js';

/** What masking did to one result (recorded in the transcript). */
export interface MaskReport {
  columns: string[];
  detectors: Record<string, number>;
}

type Scanner = {
  scan(text: string): { text: string; hits: Record<string, number> };
  /** Hot path: adds to `hits`, returns the same string when nothing matched (no allocation). */
  maskInto?(text: string, hits: Record<string, number>): string;
};

/** Apply detectors to every string in the output; returns a new output and the report. */
export function maskOutput(out: ToolOutput, scanner: Scanner): { output: ToolOutput; report: MaskReport } {
  const hits: Record<string, number> = {};
  const add = (h: Record<string, number>) => {
    for (const k in h) hits[k] = (hits[k] ?? 0) + (h[k] ?? 0);
  };
  const maskInto = scanner.maskInto?.bind(scanner);
  const scanValue = (v: unknown, depth = 0): unknown => {
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
    output = { ...out, rows: out.rows.map((row) => row.map((cell) => scanValue(cell))) };
  } else if (out.kind === 'text') {
    const streams: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.streams)) streams[k] = scanValue(v) as string;
    output = { ...out, streams };
  } else {
    output = { ...out, data: scanValue(out.data) };
  }
  return { output, report: { columns, detectors: hits } };
}
