/**
 * What a token whose signature verified must still be before Warden reads it (oidc.ts): a bearer
 * token, and one that says the same thing to every reader. Each check returns a refusal's reason
 * and message (never the token, never a claim's value), or null.
 */
import type { JWTPayload } from 'jose';
import { repeatedMemberName } from './json-duplicates.js';

/** Why a verified token is still refused (a TokenFailure of oidc.ts). */
export interface FormProblem {
  reason: 'malformed' | 'claims' | 'sender_constrained';
  message: string;
}

/** The RFC 7519 NumericDate claims Warden (or jose for it) reads. */
const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

/**
 * The first reason to refuse a verified token (`token` compact, `payload` as jose parsed it):
 * - a member named twice in one object of the header or the payload (json-duplicates.ts): JSON.parse
 *   keeps the last, others keep the first; in the header, `"typ":"JWT","typ":"at+jwt"` is an ID
 *   token to one reader and an access token to require_access_token_type;
 * - an `exp`, `nbf` or `iat` that is a number but not a finite one: `1e400` parses to Infinity, a
 *   token that never expires here while other readers refuse the overflow;
 * - a `cnf` claim (RFC 7800): the token is bound to a key its holder must prove (DPoP, RFC 9449;
 *   mutual TLS, RFC 8705). Warden checks no such proof, so it would take a stolen copy as a
 *   bearer token, and binding it is what made the theft harmless elsewhere; RFC 9449 section 7.2
 *   has a resource server that knows DPoP refuse a bound token sent as a bearer token.
 */
export function tokenFormProblem(token: string, payload: JWTPayload): FormProblem | null {
  const [header, body] = token.split('.') as [string, string];
  for (const [part, text] of [['header', header], ['payload', body]] as const) {
    const repeated = repeatedMemberName(Buffer.from(text, 'base64url').toString('utf8'));
    if (repeated !== null) return { reason: 'malformed', message: `the token's ${part} names ${JSON.stringify(repeated.slice(0, 64))} twice in one object (readers disagree on which counts)` };
  }
  for (const claim of TIME_CLAIMS) {
    const v = payload[claim];
    if (typeof v === 'number' && !Number.isFinite(v)) return { reason: 'claims', message: `the token's ${claim} claim is not a finite number (a NumericDate other readers refuse)` };
  }
  if (Object.hasOwn(payload, 'cnf')) {
    return {
      reason: 'sender_constrained',
      message: 'the token is sender-constrained (it has a cnf claim: DPoP or mutual-TLS bound), and Warden verifies no proof of possession, so it does not take it as a bearer token; have the issuer send this audience plain bearer tokens',
    };
  }
  return null;
}
