/**
 * The window of a container log that kubectl_logs returns, masked with the lines just before
 * it. Why: the agent chooses where the window starts (`tail_lines`, `since_s`), and the masker
 * reads some values on the lines after their name (`password: |` then the value, a JSON value
 * on the next line, a quoted value running on): a window starting between the name and the
 * value showed the value without its name, and nothing masked it. So up to CONTEXT_LINES lines
 * before the window are read too (a second log request, `timestamps=true` on both so the
 * window's first line is found among them by its timestamp), the whole is masked, and the
 * window is cut back out of the masked text. A value masked across the boundary may show a
 * line or two before the window (the same container's log, masked). When those lines cannot
 * be found (the log moved on by more than MOVED_LINES lines between the two reads, or they lie
 * beyond what is read), nothing is returned (fail closed); fewer of them than CONTEXT_LINES are
 * enough only when the log starts there. No context is read when the window
 * holds the whole log. A value may run on for more than CONTEXT_LINES lines (a PEM body under
 * `private_key: |`): when the lines read do not begin at the log's start, their leading run of
 * continuation-shaped lines is masked, and where it fills them it goes on into the window
 * (shared/line-windows.ts maskWindowStart, as for `tail` in a command's output).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { KubeConnector } from './connector.js';
import { maskSecretStreams } from '../shared/secret-text.js';
import { maskWindowStart } from '../shared/line-windows.js';
import { maskSecretValues, type SecretValue } from './secret-env.js';

/** Lines read before the window (a value's name is on one of them). */
export const CONTEXT_LINES = 16;
/**
 * Lines the log may move on between the two reads and the window still be found. Why: a busy
 * container (a debug log, a request log under load) writes dozens of lines in the milliseconds
 * between them, and with no slack every such call was refused.
 */
export const MOVED_LINES = 240;

/**
 * The lines before the window could not be found (fail closed). Its own class: kubectl_logs
 * first asks whether the pod was replaced (then those lines need not line up), other read
 * failures (a timeout, a cancel) are reported as they are.
 */
export class LogContextMissing extends WardenError {
  constructor(what: string) {
    super(ErrorCode.BACKEND, `the log lines just before the window of ${what} could not be read to check that no value begun there runs into it (the log moved on while it was read, or its lines are long); nothing is returned, call again`);
  }
}

/** A log line as the API server prefixes it with `timestamps=true`: `2026-11-29T19:54:26.123456789Z text`. */
interface Stamped {
  stamp: string;
  line: string;
  /** Ends with a newline (the last line of a cut answer does not). */
  whole: boolean;
}

/** Split a `timestamps=true` answer into lines; a line without a stamp (none is sent so) is refused. */
function stamped(text: string, what: string): Stamped[] {
  const out: Stamped[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const raw = text.slice(at, nl < 0 ? text.length : nl);
    const sp = raw.indexOf(' ');
    // A cut answer may end inside the stamp: that line shows nothing yet.
    if (sp < 0 && nl < 0) break;
    if (sp < 0 || !/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/.test(raw.slice(0, sp))) {
      throw new WardenError(ErrorCode.BACKEND, `the API server answered the log of ${what} with a line that does not start with a timestamp`);
    }
    out.push({ stamp: raw.slice(0, sp), line: raw.slice(sp + 1), whole: nl >= 0 });
    at = nl < 0 ? text.length : nl + 1;
  }
  return out;
}

const text = (lines: Stamped[]): string => lines.map((l) => (l.whole ? `${l.line}\n` : l.line)).join('');

/** The first `cap` bytes of `s`, not splitting a character. */
function cut(s: string, cap: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= cap) return s;
  let end = cap;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

/** Where the window's first lines are among the context answer's lines (-1: not there). */
function align(ctx: Stamped[], win: Stamped[]): number {
  const m = Math.min(3, win.length);
  for (let j = 0; j + m <= ctx.length; j++) {
    let ok = true;
    for (let i = 0; i < m && ok; i++) {
      const c = ctx[j + i]!;
      const w = win[i]!;
      ok = c.stamp === w.stamp && (w.whole ? c.whole && c.line === w.line : c.line.startsWith(w.line));
    }
    if (ok) return j;
  }
  return -1;
}

/** What to read: the log path (without query) and the agent's window. */
export interface LogWindowRequest {
  path: string;
  container: string | null;
  tailLines: number;
  sinceSeconds?: number;
  /** Bytes of log text the agent may get. */
  cap: number;
  what: string;
  /** Values the pod's environment takes from Secrets (and ConfigMaps), masked wherever they appear, before names are (secret-env.ts). */
  values?: readonly SecretValue[];
  signal?: AbortSignal;
}

/** The window, masked with the lines before it, and how many values were masked. */
export async function readLogWindow(c: KubeConnector, r: LogWindowRequest): Promise<{ log: string; truncated: boolean; masked: number; maskedValues: number }> {
  // The stamps take room: read twice the cap, and cut the text at the cap once they are gone.
  const read = 2 * r.cap;
  const q = (tail: number, since: boolean) => {
    const p = new URLSearchParams({ tailLines: String(tail), limitBytes: String(read + 1), timestamps: 'true' });
    if (r.container) p.set('container', r.container);
    if (since && r.sinceSeconds) p.set('sinceSeconds', String(r.sinceSeconds));
    return `${r.path}?${p.toString()}`;
  };
  const got = await c.getText(q(r.tailLines, true), `read logs of ${r.what}`, { signal: r.signal, maxBytes: read });
  const win = stamped(got.text, r.what);
  const full = text(win);
  const cutText = cut(full, r.cap);
  const truncated = got.truncated || cutText.length < full.length;
  // The whole log (fewer lines than asked, nothing cut, no time limit): nothing lies before it.
  const whole = !got.truncated && r.sinceSeconds === undefined && win.length < r.tailLines;
  // Secret values first, by value (a cut end may hold a prefix of one, a window's start the
  // end of an encoded one), then names as below.
  const valued = maskSecretValues({ log: cutText }, r.values ?? [], truncated, !whole);
  const shown = valued.streams.log;
  const maskedValues = valued.masked;
  let before = '';
  // The lines read before the window begin at the log's start (nothing lies before them).
  let fromStart = true;
  if (win.length > 0 && !whole) {
    // Lines written between the two reads shift the window's first line towards the start of
    // the answer; up to MOVED_LINES of them leave CONTEXT_LINES before it.
    const asked = (got.truncated ? r.tailLines : win.length) + CONTEXT_LINES + MOVED_LINES;
    const ctx = await c.getText(q(asked, false), `read logs of ${r.what}`, { signal: r.signal, maxBytes: read });
    const lines = stamped(ctx.text, r.what);
    const j = align(lines, win);
    // Fewer lines before it than wanted: the log starts there only when the answer is all of it.
    const atStart = !ctx.truncated && lines.length < asked;
    if (j < 0 || (j < CONTEXT_LINES && !atStart)) {
      throw new LogContextMissing(r.what);
    }
    fromStart = atStart && j <= CONTEXT_LINES;
    before = maskSecretValues({ log: text(lines.slice(Math.max(0, j - CONTEXT_LINES), j)) }, r.values ?? [], false, !fromStart).streams.log;
  }
  if (!before) {
    const m = maskSecretStreams({ log: shown });
    return { log: m.streams.log, truncated, masked: m.masked, maskedValues };
  }
  // Lines before the window that do not begin at the log's start may begin inside a value longer
  // than them (a `private_key: |` block of 40 lines): their leading run of continuation-shaped
  // lines is masked, into the window when it fills them (line-windows.ts).
  const lead = (m: { streams: { log: string }; masked: number }) => {
    if (fromStart) return m;
    const w = maskWindowStart(m.streams.log);
    return { streams: { log: w.text }, masked: m.masked + w.masked };
  };
  const both = lead(maskSecretStreams({ log: before + shown }));
  const ctxOnly = lead(maskSecretStreams({ log: before }));
  // Either way what is returned is the end of the text masked whole. Nothing masked across the
  // boundary: the rest is the window, masked with what came before, line for line.
  const lines = (s: string) => s.split('\n').length;
  const rest = both.streams.log.startsWith(ctxOnly.streams.log) ? both.streams.log.slice(ctxOnly.streams.log.length) : null;
  if (rest !== null && lines(rest) === lines(shown)) return { log: rest, truncated, masked: Math.max(0, both.masked - ctxOnly.masked), maskedValues };
  // A value masked across it: the window's lines from the end, and the line the mask joined them to.
  const outLines = both.streams.log.split('\n');
  const want = lines(shown) + Math.max(0, outLines.length - lines(before + shown));
  return { log: outLines.slice(-want).join('\n'), truncated, masked: both.masked, maskedValues };
}
