/**
 * The two opt-in token checks of identity.oidc, after the signature has verified:
 * `require_access_token_type` (RFC 9068 section 4: an access token's header says `typ: at+jwt`;
 * an ID token says `JWT`, and a client that sends its ID token as a bearer token must not be
 * served on it) and `max_token_age` (an `iat` older than that is refused, whatever `exp` says).
 * They return a message, never the token.
 */

/** `at+jwt`, compared as RFC 7515 says of media types: case-insensitively, `application/` optional. */
export function tokenTypeProblem(typ: unknown): string | null {
  if (typ === undefined) return null; // No typ: the issuer does not type its tokens (RFC 9068 issuers do).
  const t = typeof typ === 'string' ? typ.toLowerCase() : '';
  if (t === 'at+jwt' || t === 'application/at+jwt') return null;
  const named = typeof typ === 'string' ? JSON.stringify(typ.slice(0, 40)) : 'not a string';
  return `the token's header typ is ${named}, not at+jwt: it is not an access token (an ID token is typed JWT); identity.oidc.require_access_token_type is on`;
}

/**
 * Whether `iat` is within `maxAgeMs` of now (plus the clock leeway `toleranceMs`, as for exp).
 * A token without a numeric iat cannot show its age, so it is refused.
 */
export function tokenAgeProblem(iat: unknown, maxAgeMs: number, toleranceMs: number, nowMs = Date.now()): { reason: 'too_old' | 'claims'; message: string } | null {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return { reason: 'claims', message: 'the token has no iat claim, and identity.oidc.max_token_age needs one to tell its age' };
  if (iat * 1000 + maxAgeMs + toleranceMs < nowMs) return { reason: 'too_old', message: `the token was issued (iat) more than identity.oidc.max_token_age (${Math.round(maxAgeMs / 1000)}s) ago; get a fresh one` };
  return null;
}
