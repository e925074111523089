/**
 * Respond stage helpers: a compact text rendering (what most agents read) plus
 * structuredContent (what typed clients read), and coded error results.
 */
import type { ToolOutput } from '../tool-api.js';
import type { WardenError } from '../errors.js';
import type { CallResponse } from './types.js';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function cellText(v: unknown): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : v;
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A row of strings that need no escaping and numbers: `join` gives exactly what cellText would,
 * as one flat string. Why: most rows are like this, and building them cell by cell allocated
 * a chain of partial strings per row (a 1,000-row read's rendering allocated ~5x its text).
 */
function plainRow(r: unknown[]): boolean {
  for (let i = 0; i < r.length; i++) {
    const v = r[i];
    if (typeof v === 'number') continue;
    if (typeof v !== 'string' || NEEDS_ESCAPE.test(v)) return false;
  }
  return true;
}

/** Render a tool output as text (tab-separated for tables) and structured content. */
export function renderOutput(out: ToolOutput, meta: Record<string, unknown>): CallResponse {
  if (out.kind === 'table') {
    const lines: string[] = [];
    let dates = false;
    if (out.columns.length) {
      lines.push(out.columns.map((c) => c.name).join('\t'));
      for (const r of out.rows) {
        if (plainRow(r)) {
          lines.push(r.join('\t'));
          continue;
        }
        let line = '';
        for (let i = 0; i < r.length; i++) {
          const v = r[i];
          if (v instanceof Date) dates = true;
          line += i === 0 ? cellText(v) : '\t' + cellText(v);
        }
        lines.push(line);
      }
    }
    const tail = out.command && !out.columns.length
      ? `${out.command}${out.affected != null ? ` ${out.affected}` : ''}`
      : `(${out.rowCount} row${out.rowCount === 1 ? '' : 's'}${out.truncated ? ', truncated' : ''})`;
    lines.push(tail);
    const notes = out.notes?.length ? out.notes : null;
    if (notes) lines.push(...notes.map((n) => `note: ${n}`));
    return {
      content: [{ type: 'text', text: lines.join('\n') }],
      structuredContent: {
        columns: out.columns.map((c) => ({ name: c.name, ...(c.type ? { type: c.type } : {}), ...(c.masked ? { masked: c.masked } : {}) })),
        // The rows themselves, not a copy, unless a Date needs its text form.
        rows: dates ? out.rows.map((r) => r.map((v) => (v instanceof Date ? v.toISOString() : v))) : out.rows,
        row_count: out.rowCount,
        truncated: out.truncated,
        ...(out.affected != null ? { affected: out.affected } : {}),
        ...(out.command ? { command: out.command } : {}),
        // What the agent read under the rows is what the transcript stores (and typed clients get).
        ...(notes ? { notes } : {}),
        warden: meta,
      },
    };
  }
  if (out.kind === 'text') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(out.streams)) if (v) parts.push(Object.keys(out.streams).length > 1 ? `[${k}]\n${v}` : v);
    if (out.exitCode !== undefined && out.exitCode !== null) parts.push(`(exit code ${out.exitCode}${out.truncated ? ', truncated' : ''})`);
    else if (out.truncated) parts.push('(truncated)');
    // A command ended by a signal or stopped at the output cap says so (its notes were dropped before).
    const notes = out.notes?.length ? out.notes : null;
    if (notes) parts.push(...notes.map((n) => `note: ${n}`));
    return {
      content: [{ type: 'text', text: parts.join('\n') }],
      structuredContent: { ...out.streams, exit_code: out.exitCode ?? null, truncated: out.truncated, ...(notes ? { notes } : {}), warden: meta },
    };
  }
  const body = typeof out.data === 'string' ? out.data : JSON.stringify(out.data, null, 1);
  const notes = out.notes?.length ? out.notes : null;
  return {
    content: [{ type: 'text', text: notes ? [body, ...notes.map((n) => `note: ${n}`)].join('\n') : body }],
    structuredContent: { data: out.data as unknown, truncated: out.truncated, ...(notes ? { notes } : {}), warden: meta },
  };
}

/** A coded error result: the code, the reason, the rule ids and what the principal may do instead. */
export function renderError(err: WardenError, meta: Record<string, unknown>): CallResponse {
  const d = err.details;
  const lines = [`${err.code}: ${err.message}`];
  if (d.ruleIds?.length) lines.push(`rule: ${d.ruleIds.join(', ')}`);
  if (d.alternatives?.length) lines.push('you may instead use:', ...d.alternatives.map((a) => `  - ${a}`));
  if (typeof d.approvalId === 'string') lines.push(`approval id: ${d.approvalId}`);
  return {
    content: [{ type: 'text', text: lines.join('\n') }],
    structuredContent: {
      error: {
        code: err.code,
        message: err.message,
        rule_ids: d.ruleIds ?? [],
        ...(d.alternatives ? { alternatives: d.alternatives } : {}),
        ...(typeof d.approvalId === 'string' ? { approval_id: d.approvalId } : {}),
      },
      warden: meta,
    },
    isError: true,
  };
}
