/**
 * What a token whose signature verified must still be before Warden reads it (oidc.ts): a bearer
 * token (or a DPoP-bound one, when identity.oidc.dpop is configured), and one that says the same
 * thing to every reader. Each check returns a refusal's reason
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
 *   mutual TLS, RFC 8705). Without `dpop` (identity.oidc.dpop not configured) Warden checks no
 *   such proof, so it would take a stolen copy as a bearer token, and binding it is what made the
 *   theft harmless elsewhere. With `dpop`, a `cnf` holding exactly a `jkt` (an RFC 7638 SHA-256
 *   thumbprint) passes here: boundKey reads it, and the caller must check the proof
 *   (bindingProblem). Any other confirmation (mutual TLS's `x5t#S256`, a `jwk`) stays refused.
 */
export function tokenFormProblem(token: string, payload: JWTPayload, dpop = false): FormProblem | null {
  const [header, body] = token.split('.') as [string, string];
  for (const [part, text] of [['header', header], ['payload', body]] as const) {
    const repeated = repeatedMemberName(Buffer.from(text, 'base64url').toString('utf8'));
    if (repeated !== null) return { reason: 'malformed', message: `the token's ${part} names ${JSON.stringify(repeated.slice(0, 64))} twice in one object (readers disagree on which counts)` };
  }
  for (const claim of TIME_CLAIMS) {
    const v = payload[claim];
    if (typeof v === 'number' && !Number.isFinite(v)) return { reason: 'claims', message: `the token's ${claim} claim is not a finite number (a NumericDate other readers refuse)` };
  }
  if (Object.hasOwn(payload, 'cnf') && !(dpop && boundKey(payload) !== undefined)) {
    return {
      reason: 'sender_constrained',
      message: dpop
        ? 'the token is sender-constrained in a way Warden cannot check (its cnf claim is not a DPoP key thumbprint alone: mutual-TLS bound, or another confirmation method); only DPoP-bound tokens (cnf.jkt) are taken'
        : 'the token is sender-constrained (it has a cnf claim: DPoP or mutual-TLS bound), and Warden verifies no proof of possession (identity.oidc.dpop is not configured), so it does not take it as a bearer token; have the issuer send this audience plain bearer tokens, or configure identity.oidc.dpop',
    };
  }
  return null;
}

/** The token's DPoP key thumbprint: `cnf` of exactly one member `jkt` holding a base64url SHA-256 (43 characters); else undefined. */
export function boundKey(payload: JWTPayload): string | undefined {
  const cnf = payload.cnf as unknown;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return undefined;
  const keys = Object.keys(cnf);
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return keys.length === 1 && typeof jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jkt) ? jkt : undefined;
}

/**
 * RFC 9449 section 7.2: a DPoP-bound token sent with the Bearer scheme is refused (a thief has
 * the token, not the key); a token sent with the DPoP scheme must be bound (its proof proves a key
 * the token names). Null when the scheme fits the token.
 */
export function bindingProblem(jkt: string | undefined, scheme: 'Bearer' | 'DPoP'): { reason: 'sender_constrained' | 'not_bound'; message: string } | null {
  if (scheme === 'Bearer' && jkt !== undefined) return { reason: 'sender_constrained', message: 'the token is DPoP-bound (cnf.jkt): send it as Authorization: DPoP with a DPoP proof signed by its key, not as a bearer token' };
  if (scheme === 'DPoP' && jkt === undefined) return { reason: 'not_bound', message: 'the token is not DPoP-bound (it has no cnf.jkt): a DPoP proof cannot bind it; send it as Authorization: Bearer' };
  return null;
}
