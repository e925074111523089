/**
 * DPoP proof checking (RFC 9449 section 4.3) for a request that presents a DPoP-bound access
 * token: the proof is a JWT of type `dpop+jwt`, signed with an asymmetric algorithm by the public
 * key in its own header (`jwk`), naming this request's method (`htm`) and URL (`htu`), fresh
 * (`iat`), used once (`jti`, dpop-replay.ts), for this very token (`ath`), and by the key the
 * token is bound to (its `cnf.jkt` is the RFC 7638 thumbprint of that key). Refusals are
 * WARDEN_UNAUTHENTICATED with reason `dpop_proof` (or `dpop_replay_full` when the replay cache
 * has no room, or `dpop_nonce` when server nonces are on and the proof lacks a current one)
 * and name what was wrong, never the token or the proof.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { ErrorCode, WardenError } from '../errors.js';
import { repeatedMemberName } from './json-duplicates.js';
import type { ReplayCache } from './dpop-replay.js';
import { nonceClaimProblem, type NonceIssuer } from './dpop-nonce.js';

/** identity.oidc.dpop, durations in ms (config/schema-parts.ts). */
export interface DpopOptions {
  required: boolean;
  max_age_ms: number;
  clock_skew_ms: number;
  replay_cache_size: number;
  /** The URL a proof's htu names; default from the audience (server/http-dpop.ts). */
  public_url?: string;
  /** identity.oidc.dpop.nonce on: server nonces (dpop-nonce.ts) of windows of `lifetime_ms`, keyed by the secret reference `key_ref` (else a random key). */
  nonce?: { lifetime_ms: number; key_ref?: string };
}

/** The proof algorithms Warden verifies (asymmetric only: never `none`, never HS*); advertised in challenges and metadata. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const;

/** JWK members only a private (or symmetric) key has: a proof's `jwk` holding one is refused. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The largest proof read (a proof is a few hundred bytes; an RSA 4096 key in the header stays well under). */
const MAX_PROOF_CHARS = 8192;

/** What a proof is checked against. */
export interface ProofRequest {
  /** The compact proof JWT (the one DPoP header). */
  proof: string;
  /** The request's HTTP method. */
  method: string;
  /** The URL this request was sent to, normalised (normaliseHtu), without query and fragment. */
  htu: string;
  /** The access token of the Authorization header (compared through its hash only). */
  accessToken: string;
  /** The token's cnf.jkt. */
  jkt: string;
}

/** The window and the replay cache. */
export interface ProofWindow {
  maxAgeMs: number;
  skewMs: number;
  replay: ReplayCache;
  /** Server nonces, when identity.oidc.dpop.nonce is on: the proof must carry a current one. */
  nonce?: NonceIssuer;
}

function refuse(message: string, reason = 'dpop_proof'): WardenError {
  return new WardenError(ErrorCode.UNAUTHENTICATED, message, { reason });
}

/**
 * `u` as RFC 9449 section 4.3 compares it: query and fragment dropped, then syntax- and
 * scheme-based normalisation (RFC 3986 6.2.2, 6.2.3): scheme and host in lower case, the
 * default port dropped, an empty path as `/`, dot segments resolved, percent-encodings in upper
 * case and unreserved characters decoded. Null for what is no http(s) URL or carries userinfo.
 */
export function normaliseHtu(u: string): string | null {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return null;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${h.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** base64url(SHA-256(token)): the `ath` a proof for this token carries. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** Parse one base64url JSON part of the proof, refusing a member named twice (readers disagree). */
function part(text: string, which: 'header' | 'payload'): Record<string, unknown> {
  const json = Buffer.from(text, 'base64url').toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw refuse(`the DPoP proof's ${which} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw refuse(`the DPoP proof's ${which} is not a JSON object`);
  if (repeatedMemberName(json) !== null) throw refuse(`the DPoP proof's ${which} names a member twice in one object`);
  return v as Record<string, unknown>;
}

/** The header checks made before any key is imported: type, algorithm, a public key. */
function checkHeader(header: Record<string, unknown>): JWK {
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') throw refuse('the DPoP proof is not typed dpop+jwt');
  if (typeof header.alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw refuse(`the DPoP proof is signed with an algorithm Warden does not take (asymmetric only: ${DPOP_ALGORITHMS.join(', ')})`);
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw refuse('the DPoP proof has no jwk header (the public key it is signed with)');
  const k = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(k, m))) throw refuse("the DPoP proof's jwk holds private key material; a proof carries the public key only");
  if (k.kty !== 'EC' && k.kty !== 'RSA' && k.kty !== 'OKP') throw refuse("the DPoP proof's jwk is not an asymmetric public key (kty EC, RSA or OKP)");
  return k as JWK;
}

/**
 * The server nonce (RFC 9449 section 9): none, or one that is not this server's current or
 * previous, is `dpop_nonce` (the client retries with the DPoP-Nonce it is sent); one that is no
 * string a nonce could be is a bad proof.
 */
function checkNonce(issuer: NonceIssuer, nonce: unknown, nowMs: number): void {
  if (nonce === undefined) throw refuse('the DPoP proof carries no nonce; this server requires its own (identity.oidc.dpop.nonce): make the proof again with the DPoP-Nonce of this response', 'dpop_nonce');
  const problem = nonceClaimProblem(nonce);
  if (problem) throw refuse(problem);
  if (!issuer.accepts(nonce as string, nowMs)) throw refuse("the DPoP proof's nonce is not a current one of this server (expired, or issued under another nonce_key): make the proof again with the DPoP-Nonce of this response", 'dpop_nonce');
}

/**
 * Check `r.proof`; resolves when it is good (and its jti is now spent), throws a coded refusal
 * otherwise. The cheap comparisons come before the signature, and the jti is spent last, so a
 * proof refused for anything else does not use up its id nor a place in the cache.
 */
export async function checkDpopProof(r: ProofRequest, w: ProofWindow, nowMs = Date.now()): Promise<void> {
  if (r.proof.length > MAX_PROOF_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(r.proof)) throw refuse('the DPoP header is not a compact JWT');
  const [h, p] = r.proof.split('.') as [string, string];
  const jwk = checkHeader(part(h, 'header'));
  const claims = part(p, 'payload');
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw refuse('the DPoP proof has no usable jti (a unique id, at most 256 characters)');
  if (typeof htm !== 'string' || htm !== r.method) throw refuse("the DPoP proof's htm is not this request's method");
  if (typeof htu !== 'string' || normaliseHtu(htu) !== r.htu) throw refuse("the DPoP proof's htu is not this request's URL (without query and fragment)");
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw refuse('the DPoP proof has no numeric iat');
  if (iat * 1000 > nowMs + w.skewMs) throw refuse('the DPoP proof was issued in the future (iat later than now plus identity.oidc.dpop.clock_skew)');
  if (iat * 1000 < nowMs - w.maxAgeMs - w.skewMs) throw refuse(`the DPoP proof is older than identity.oidc.dpop.max_age (${Math.round(w.maxAgeMs / 1000)}s); make a fresh proof for every request`);
  if (typeof ath !== 'string' || ath !== accessTokenHash(r.accessToken)) throw refuse("the DPoP proof's ath is not the hash of this access token");
  if (w.nonce) checkNonce(w.nonce, claims.nonce, nowMs);
  let thumbprint: string;
  try {
    thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  } catch {
    throw refuse("the DPoP proof's jwk is not a valid public key");
  }
  if (thumbprint !== r.jkt) throw refuse("the DPoP proof is signed by another key than the one the token is bound to (cnf.jkt)");
  let verified: JWTPayload;
  try {
    ({ payload: verified } = await jwtVerify(r.proof, EmbeddedJWK, { algorithms: [...DPOP_ALGORITHMS] }));
  } catch {
    throw refuse('the DPoP proof signature does not verify with its jwk');
  }
  // jose parsed the same bytes; the claims read above are the ones signed.
  if (verified.jti !== jti) throw refuse('the DPoP proof is malformed');
  const verdict = w.replay.take(`${r.jkt}.${jti}`, Math.ceil(iat) * 1000 + w.maxAgeMs + w.skewMs + 1000, nowMs);
  if (verdict === 'replayed') throw refuse('the DPoP proof was used before (its jti is spent); make a fresh proof for every request');
  if (verdict === 'full') throw refuse('the DPoP replay cache is full (identity.oidc.dpop.replay_cache_size); retry shortly', 'dpop_replay_full');
}
