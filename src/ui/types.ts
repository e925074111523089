/**
 * What the reviewer UI needs from its host: a transcript store with the reviewer queries, the
 * approvals API when approvals are configured, an OIDC token verifier, and where it is served.
 */
import type { Principal } from '../tool-api.js';
import type { ApprovalReviewApi } from '../approvals/review-api.js';
import type { SqliteTranscriptStore, TranscriptStore } from '../recorder/index.js';

/** The store surface the UI reads; why: any store with these queries can back the UI. */
export type UiStore = TranscriptStore &
  Pick<SqliteTranscriptStore, 'searchSessions' | 'sessionInfo' | 'sessionCalls' | 'getCall' | 'headSeq' | 'sessionRecords' | 'sessionCallPreviews' | 'sessionEventRecords'>;

/** Dependencies of createUiHandler. */
export interface UiDeps {
  store: UiStore;
  approvals?: ApprovalReviewApi;
  /**
   * Verifies an OIDC bearer token (issuer, audience, signature, required scopes) and returns the
   * reviewer with the token's expiry (epoch seconds): the UI session never outlives the token.
   * A WardenError with `details.reason` 'insufficient_scope' or 'not_a_reviewer' makes the login
   * a 403 (the token is valid; this principal may not review).
   */
  verifyToken?: (token: string) => Promise<{ principal: Principal; expiresAt: number }>;
  /** Origin the UI is reached at, e.g. http://127.0.0.1:8080 (the handler serves under /ui). */
  baseUrl: string;
  /**
   * Whether a request's Origin header is one this server is reached at (scheme, host and port
   * compared whole; the host's Host/Origin policy decides). Required: the UI's POSTs carry the
   * reviewer's cookie, and only this server's own pages may send them.
   */
  allowsOrigin(origin: string): boolean;
  /**
   * Mark the session cookie `Secure`. Default: when baseUrl is https. Set it when a TLS proxy
   * fronts a plain-http listener (`serve --http` does when identity.oidc.audience, the public
   * resource URI, is an https URL), so the cookie never travels over plain http.
   */
  secureCookies?: boolean;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  /**
   * Whether a signed-in reviewer still reviews anything under the current policy, asked on every
   * request. Why: a UI session lasts hours and shows every principal's transcripts, so a reload
   * that takes someone off the reviewers ends their session at their next request, not at its end.
   * Absent: sessions last their term.
   */
  stillReviewer?(p: Principal): boolean;
  /**
   * 'refuse': no one-time login links (warden.yaml ui.local_login, or approvals.cli_as): loginUrl()
   * throws and /ui/login?token= answers 403 with WARDEN_UNAUTHENTICATED. Default 'allow'.
   */
  localLogin?: 'allow' | 'refuse';
  /** Who a one-time-link login acts as (default subject `local-reviewer`, no groups). */
  localPrincipal?: Principal;
  /** Lifetime of a login session (default 8 h) and of a one-time link (default 10 min). */
  sessionTtlMs?: number;
  loginLinkTtlMs?: number;
  /** How often live views check for changes (default 1000 ms). */
  pollMs?: number;
}

/** The handler and the one-time login link maker. */
export interface UiHandler {
  /** Serve a request whose path starts with /ui. */
  handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void;
  /** A fresh single-use login link (localhost only), to print at startup. */
  loginUrl(): string;
  /** Stop live-update streams (server shutdown). */
  close(): void;
}
