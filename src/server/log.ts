/**
 * Structured logs on stderr (stdout belongs to MCP). Secret-free by construction: callers pass
 * codes and messages, and every string in a line is scrubbed once more here.
 */
import { safeMessage } from '../errors.js';
import { visibleJson } from '../visible-text.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
let threshold: number = LEVELS[(process.env.WARDEN_LOG_LEVEL as keyof typeof LEVELS) ?? 'info'] ?? LEVELS.info;

/** Change the log threshold (tests and --quiet). */
export function setLogLevel(level: keyof typeof LEVELS | 'silent'): void {
  threshold = level === 'silent' ? 100 : LEVELS[level];
}

/** The line's own fields: a data field of the same name is written as data_<name>, never in their place. */
const OWN = new Set(['t', 'level', 'msg']);

/**
 * Write one JSON log line to stderr. Why each string is scrubbed before serialising, not the
 * line after: the scrub of `token=...` ran over the JSON text, ate the closing quote of a value
 * (a subject `alice token=`) and left a line that was no longer JSON. Hidden characters (C1
 * controls, bidi overrides, line separators) are JSON \uXXXX escapes (visibleJson), so a value
 * cannot reorder or hide what `tail -f` shows; a newline is always \n, so one call is one line.
 */
export function log(level: keyof typeof LEVELS, msg: string, data: Record<string, unknown> = {}): void {
  if (LEVELS[level] < threshold) return;
  const fields: Record<string, unknown> = { t: new Date().toISOString(), level, msg };
  for (const [k, v] of Object.entries(data)) fields[OWN.has(k) ? `data_${k}` : k] = v;
  process.stderr.write(visibleJson(fields, undefined, (_k, v) => (typeof v === 'string' ? safeMessage(v) : v)) + '\n');
}
