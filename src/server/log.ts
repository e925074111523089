/**
 * Structured logs on stderr (stdout belongs to MCP). Secret-free by construction: callers pass
 * codes and messages, and messages are scrubbed once more here.
 */
import { safeMessage } from '../errors.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
let threshold: number = LEVELS[(process.env.WARDEN_LOG_LEVEL as keyof typeof LEVELS) ?? 'info'] ?? LEVELS.info;

/** Change the log threshold (tests and --quiet). */
export function setLogLevel(level: keyof typeof LEVELS | 'silent'): void {
  threshold = level === 'silent' ? 100 : LEVELS[level];
}

/** Write one JSON log line to stderr. */
export function log(level: keyof typeof LEVELS, msg: string, data: Record<string, unknown> = {}): void {
  if (LEVELS[level] < threshold) return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg: safeMessage(msg), ...data });
  process.stderr.write(safeMessage(line) + '\n');
}
