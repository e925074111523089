/**
 * How `warden transcripts` prints for a terminal: tables, the replay timeline and the small
 * formatters they share. Agent-supplied text is cleaned (control characters escaped) before it
 * reaches the reviewer's terminal.
 */
import type { CallRecord, ChainRecord, SessionRecord } from '../recorder/types.js';
import { lookalikeWarning, reviewable } from '../approvals/reviewable.js';
import { visibleText } from '../visible-text.js';

/** One replay line: time, principal, what happened. */
export function timelineLine(r: ChainRecord, who: string, tools: Map<string, string>): string {
  const b = JSON.parse(r.body) as Record<string, any>;
  const t = timeOf(r.ts).padEnd(12);
  switch (r.kind) {
    case 'session_open':
      return `${t}  ${who}  session opened (${[b.client?.name, b.client?.version].filter(Boolean).join(' ') || '-'} over ${b.transport})`;
    case 'session_close':
      return `${t}  ${who}  session closed`;
    case 'call_intent': {
      tools.set(String(b.id), String(b.tool));
      const rules = (b.ruleIds as string[] | undefined)?.join(',') || '-';
      return `${t}  ${who}  -> ${b.tool}${b.connection ? ` @${b.connection}` : ''}  ${cut(reviewable(b.factsSummary ?? JSON.stringify(b.args) ?? ''), 100)}  [${b.decision}: ${rules}]`;
    }
    case 'call_outcome': {
      const res = b.result === null || b.result === undefined ? '' : `  ${cut(JSON.stringify(b.result), 120)}`;
      return `${t}  ${who}  <- ${tools.get(String(b.callId)) ?? 'call'} ${b.status}${b.errorCode ? ` ${b.errorCode}` : ''} in ${duration(Number(b.durationMs))}${res}`;
    }
    case 'approval_event': {
      const what = b.event === 'decision' ? `${b.decision} by ${b.reviewer}${b.comment ? ` "${b.comment}"` : ''}` : `${b.event}${b.requester ? ` for ${b.requester}` : ''}`;
      return `${t}  ${who}     approval ${b.approvalId ?? r.refId}: ${what}`;
    }
    default:
      return `${t}  ${r.kind}`;
  }
}

/** Shorten to n characters with an ellipsis (one terminal line per event). */
export function cut(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** The client name and version a session announced, or "-". */
export function clientOf(s: SessionRecord): string {
  return [s.client.name, s.client.version].filter((x) => x).join(' ') || '-';
}

/** A call's status with its error code; "no outcome" for a call still running or interrupted. */
export function statusOf(c: CallRecord): string {
  if (!c.outcome) return 'no outcome';
  return c.outcome.errorCode ? `${c.outcome.status} ${c.outcome.errorCode}` : c.outcome.status;
}

/**
 * What the call did, in one table cell: the parser's summary, else the arguments. Runs of 4 or
 * more spaces or tabs are counted (reviewable) before the cut, so `SELECT 1`, 200 spaces and
 * `OR true` shows the `OR true` instead of cutting it off behind the blanks.
 */
export function summaryOf(c: CallRecord): string {
  const s = reviewable(c.factsSummary ?? JSON.stringify(c.args) ?? '');
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
}

/** The time of day of an ISO timestamp (the date is in the session header). */
export function timeOf(iso: string): string {
  return /^\d{4}-\d\d-\d\dT/.test(iso) ? iso.slice(11).replace(/Z$/, '') : iso;
}

/** A duration a reviewer reads at a glance: 12.3ms, 4.56s, 2m05s. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms * 10) / 10}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/**
 * Agent-supplied text must not drive the reviewer's terminal: control, zero-width and bidi
 * characters become visible escapes, the same set the approval views escape, and a stack of more
 * than 6 combining marks (which a terminal paints over the lines around it) is counted (visibleText).
 */
export function clean(s: string): string {
  return visibleText(s);
}

/**
 * Clean text kept on one terminal line: newlines shown as \\n. Why: a header field, a table cell
 * or a replay event is one line, and a newline in an agent's client name or statement would
 * start a forged line (`calls 0`, `session closed`) of its own.
 */
export function oneLine(s: string): string {
  return clean(s).replace(/\n/g, '\\n');
}

/**
 * The look-alike warning for the raw texts a view prints (`uѕers` with a Cyrillic ѕ names another
 * table), prefixed by `lead`; null when there are none. Why: `approvals show` and the UI flag such
 * words (approvals/reviewable.ts), and a reviewer replaying what ran must be told the same.
 */
export function lookalikeLine(lead: string, ...texts: string[]): string | null {
  const w = lookalikeWarning(...texts);
  return w ? lead + w : null;
}

/** A plain-text table with padded columns; cells are cleaned and kept on one line. */
export function table(head: string[], rows: string[][]): string {
  const cells = [head, ...rows.map((r) => r.map(oneLine))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
