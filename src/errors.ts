/**
 * One catalog of errors with stable codes (in the style of Fastify's FST_ERR_*).
 * Agents, scripts and SIEMs match on `code`; the message is for humans.
 * A WardenError message must never contain a secret: callers pass only
 * redacted context, and `safeMessage` scrubs anything that looks like a credential.
 */

/** Stable error codes. Never renumber or rename: clients depend on them. */
export const ErrorCode = {
  /** The policy denied the call (or no rule allowed it). */
  DENIED: 'WARDEN_DENIED',
  /** The input could not be parsed or fully understood by the tool's parser. */
  PARSE: 'WARDEN_PARSE',
  /** The tool arguments failed schema validation (types, sizes, unknown keys). */
  INVALID_INPUT: 'WARDEN_INVALID_INPUT',
  /** The connection name is not configured or not of the right type. */
  UNKNOWN_CONNECTION: 'WARDEN_UNKNOWN_CONNECTION',
  /** The tool name is unknown or not visible to this principal. */
  UNKNOWN_TOOL: 'WARDEN_UNKNOWN_TOOL',
  /** The call waits for a human approval. */
  APPROVAL_PENDING: 'WARDEN_APPROVAL_PENDING',
  /** A reviewer denied the call. */
  APPROVAL_DENIED: 'WARDEN_APPROVAL_DENIED',
  /** The approval expired before it was used. */
  APPROVAL_EXPIRED: 'WARDEN_APPROVAL_EXPIRED',
  /**
   * A `confirm: requester` rule needs the caller's confirmation and this client cannot be asked
   * for it at all (a 2026-07-28 client served per request, without a session); nothing ran.
   */
  CONFIRMATION_UNAVAILABLE: 'WARDEN_CONFIRMATION_UNAVAILABLE',
  /** The transcript store could not record the call, so it did not run. */
  TRANSCRIPT: 'WARDEN_TRANSCRIPT_UNAVAILABLE',
  /** The backend (database, host, cluster) failed while executing. */
  BACKEND: 'WARDEN_BACKEND_ERROR',
  /** The backend did not answer in time. */
  TIMEOUT: 'WARDEN_TIMEOUT',
  /** The principal could not be authenticated. */
  UNAUTHENTICATED: 'WARDEN_UNAUTHENTICATED',
  /** A rate limit or quota was reached. */
  RATE_LIMITED: 'WARDEN_RATE_LIMITED',
  /**
   * The server cannot take the request now, for no fault of the caller's: it is shutting down,
   * or holds as many HTTP sessions as it may. Answered with HTTP 503 and Retry-After.
   */
  UNAVAILABLE: 'WARDEN_UNAVAILABLE',
  /**
   * The HTTP MCP session reached its maximum lifetime (http.session_max_lifetime): answered with
   * HTTP 404, as for any ended session; the client initializes a new one. Nothing of the request ran.
   */
  SESSION_EXPIRED: 'WARDEN_SESSION_EXPIRED',
  /** The configuration or a policy file is invalid. */
  CONFIG: 'WARDEN_CONFIG',
  /** A secret reference could not be resolved. */
  SECRET: 'WARDEN_SECRET',
  /**
   * `serve` over stdio found that the agent's OS user (the user of the process that started
   * Warden) is Warden's own, or can read its config, `file:` secrets, store or masking key: a
   * startup warning, or the refusal to start under `identity.stdio.agent_user: refuse`.
   */
  AGENT_HOLDS_KEYS: 'WARDEN_AGENT_HOLDS_KEYS',
  /**
   * The client cancelled the call (notifications/cancelled) before it ran, or while its statement
   * ran and before it took effect (a write is never committed after a cancel); no result.
   */
  CANCELLED: 'WARDEN_CANCELLED',
  /**
   * A call stopped while it ran because an approval it ran on was withdrawn (its reviewer seen
   * out of the reviewers' group: approvals/withdraw.ts), leaving it short of its count; it was
   * cancelled as a client cancel is (a write never commits after it); no result.
   */
  APPROVAL_WITHDRAWN: 'WARDEN_APPROVAL_WITHDRAWN',
  /** An unexpected internal failure; the call did not complete. */
  INTERNAL: 'WARDEN_INTERNAL',
} as const;

/** Union of the code strings. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra, agent-safe details attached to an error (rule ids, hints). */
export interface ErrorDetails {
  ruleIds?: string[];
  reason?: string;
  /** What the principal may do instead (a short human sentence or list). */
  alternatives?: string[];
  [key: string]: unknown;
}

/**
 * The details key a tool sets (true) on a WARDEN_CANCELLED it throws when nothing of the call
 * reached its backend: it waited for a session, a lock in its BEGIN, a catalog lookup. Why: the
 * pipeline then gives back the approvals the call spent (approvals/give-back.ts), as it does for
 * a cancel seen before `execute`; set only where it is certain, never once a statement was sent.
 */
export const NOTHING_SENT = 'nothingSent';

/** Is this a cancel whose tool says nothing of the call reached the backend (NOTHING_SENT)? */
export function nothingSent(err: WardenError): boolean {
  return err.code === ErrorCode.CANCELLED && err.details[NOTHING_SENT] === true;
}

/** The one error type that crosses layers: carries a stable code and agent-safe details. */
export class WardenError extends Error {
  readonly code: ErrorCodeValue;
  readonly details: ErrorDetails;
  constructor(code: ErrorCodeValue, message: string, details: ErrorDetails = {}) {
    super(safeMessage(message));
    this.name = 'WardenError';
    this.code = code;
    this.details = details;
  }
}

const SECRETISH: [RegExp, string][] = [
  // user:password@ in URLs, up to the last @ of the authority: a password may hold a raw @ (the
  // URL parser takes the last one), and `postgres://app:p@ss@db` showed `ss` before. A match
  // starts only where a run of scheme characters does (its leading digits and signs kept), so a
  // long run is read once: starting at every letter of it was quadratic (a PostgreSQL error
  // quoting an agent's 64,000-character literal took 4 s of the event loop).
  [/(?<![a-z0-9+.-])([0-9+.-]*)([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/]*@/gi, '$1$2***@'],
  // password=... in key/value strings, and "password":"..." in JSON quoted in a message
  [/((?:password|passwd|pwd|secret|token)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi, '$1***'],
  // An Authorization header's credential (a word of 16 or more, so "bearer token rejected" stays)
  [/(\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi, '$1***'],
];

/** Scrub credential-looking fragments from a message before it can travel anywhere. */
export function safeMessage(message: string): string {
  let out = message;
  for (const [re, to] of SECRETISH) out = out.replace(re, to);
  return out;
}

/** Wrap anything thrown into a WardenError without leaking internals. */
export function toWardenError(err: unknown, fallback: ErrorCodeValue = ErrorCode.INTERNAL): WardenError {
  if (err instanceof WardenError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new WardenError(fallback, msg);
}
