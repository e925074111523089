/**
 * What a host may say about a failure, in Warden's words. SSH lets the peer attach free text to
 * a disconnect (RFC 4253 section 11.1) and to a refused channel (RFC 4254 section 5.1), and
 * ssh2 puts that text into its error messages. A peer may send a disconnect before its host key
 * was checked at all, so that text is anybody's: it must not reach the agent, the transcript or
 * a reviewer's terminal as if Warden had said it (escape sequences, "approved", instructions).
 * Only the numeric reason codes are named, from fixed tables; the description goes to Warden's
 * own log (JSON-escaped), for the operator.
 */

import { plainText } from '../shared/terminal-text.js';

/** RFC 4253 disconnect reason codes. */
const DISCONNECT_REASONS: Record<number, string> = {
  1: 'host not allowed to connect',
  2: 'protocol error',
  3: 'key exchange failed',
  4: 'reserved',
  5: 'MAC error',
  6: 'compression error',
  7: 'service not available',
  8: 'protocol version not supported',
  9: 'host key not verifiable',
  10: 'connection lost',
  11: 'by application',
  12: 'too many connections',
  13: 'auth cancelled by user',
  14: 'no more auth methods available',
  15: 'illegal user name',
};

/** RFC 4254 channel open failure reason codes. */
const OPEN_FAILURES: Record<number, string> = {
  1: 'administratively prohibited',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
};

/** How much of a host's description Warden's log keeps. */
const LOGGED_CHARS = 200;

/**
 * Host text as Warden's log keeps it: terminal escape sequences and control characters removed
 * (terminal-text.ts; a carriage return too, newlines and tabs kept, which the JSON log escapes),
 * at most LOGGED_CHARS characters, a cut marked with "…". Why: an operator reads the log in a
 * terminal, and a host must not retitle it, move its cursor or fill it.
 */
export function loggedHostText(text: string): string {
  const plain = [...plainText(text).replace(/\r/g, '')];
  return plain.length > LOGGED_CHARS ? `${plain.slice(0, LOGGED_CHARS).join('')}…` : plain.join('');
}

/** The host's own description, bounded, for Warden's log only. */
export function hostDescription(e: { message?: unknown }): string {
  return loggedHostText(String(e.message ?? ''));
}

/** The name of a disconnect reason code, when `e` is a disconnect the host sent (ssh2 sets a numeric code); null otherwise. */
export function disconnectReason(e: { code?: unknown }): string | null {
  if (typeof e.code !== 'number') return null;
  return DISCONNECT_REASONS[e.code] ?? `reason ${Math.trunc(e.code) >>> 0}`;
}

/**
 * ssh2's own handshake sentences, which carry no host text (a failed algorithm negotiation is
 * what an admin most needs to see). Any other message may quote the host ("Wrong signature
 * type: ..."), so it is not passed on.
 */
const SSH2_OWN = /^(?:Handshake failed: [A-Za-z0-9 >-]{1,60}|Keepalive timeout|Timed out while waiting for handshake|Host denied \(verification failed\))$/;

/** An ssh2 error message when it is one of ssh2's fixed sentences; null when it may quote the host. */
export function ssh2OwnMessage(e: { message?: unknown }): string | null {
  const m = String(e.message ?? '');
  return SSH2_OWN.test(m) ? m : null;
}

/** Why a session (or the exec on it) was refused, in Warden's words. */
export function sessionRefusal(e: Error & { reason?: unknown }): string {
  if (typeof e.reason === 'number') return `the host refused a session (${OPEN_FAILURES[e.reason] ?? `reason ${Math.trunc(e.reason) >>> 0}`})`;
  if (e.reason === '') return 'the host closed the session channel as it was opened';
  if (e.message === 'Unable to exec') return 'the host refused to run the command (exec request failed)';
  if (e.message === 'No response from server' || e.message === 'Channel is not open') return 'the connection to the host was lost before the host confirmed the command; its outcome is unknown';
  return 'the host refused a session';
}
