/**
 * Bearer JWT verification against an OIDC issuer (OAuth 2.1 resource-server side).
 *
 * Keys come from the issuer's JWKS (discovered from `/.well-known/openid-configuration`, or a
 * configured `jwks_uri`), cached by jose with rotation: an unknown `kid` refetches the set, at
 * most once per cooldown; after a fetch that failed, the next waits JWKS_RETRY_MS. Checked:
 * signature, allowed algorithms only (never `none`, never HS*),
 * `iss`, `aud` = this server's resource URI, `exp`/`nbf` with a small leeway (at most 5 minutes),
 * an `iat` no later than now plus that leeway, and, when configured, an `iat` no older than
 * `max_token_age` and a header `typ` of `at+jwt` when there is one (RFC 9068; token-type.ts).
 * Refused too, since the policy would read them otherwise than the issuer meant: a header or
 * payload that names a member twice, an exp/nbf/iat that is not finite, a sender-constrained
 * (`cnf`) token whose proof Warden does not check (token-form.ts; with identity.oidc.dpop, a
 * DPoP-bound one is taken with the DPoP scheme only, its proof checked by the caller), and a groups claim of a shape
 * that is not definitively a list of names (claims.ts).
 * Discovery and keys come over https only, or plain http on this machine from a server of
 * Warden's own user or root (key-source-url.ts, loopback-owner.ts), also through redirects.
 * The token itself never leaves this module: errors name what was wrong, never the token.
 */
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import { groupsFromClaims, principalClaims, type GroupsString } from './claims.js';
import { fetchKeySource, isPlainLoopback, keySourceProblem } from './key-source-url.js';
import { loopbackOwnedFetch } from './loopback-owner.js';
import type { DpopOptions } from './dpop-proof.js';
import { bindingProblem, boundKey, tokenFormProblem } from './token-form.js';
import { tokenAgeProblem, tokenTypeProblem } from './token-type.js';
import { fail, mapJoseError } from './token-failures.js';

/** Asymmetric algorithms accepted unless configured otherwise. */
export const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'PS256'] as const;

/** What the verifier needs (the `identity.oidc` block of warden.yaml, durations in ms). */
export interface OidcOptions {
  issuer: string;
  audience: string;
  groups_claim?: string;
  /** A groups claim that is one string holding whitespace, commas or semicolons: refuse the token (default), one group, or split (claims.ts). */
  groups_string?: GroupsString;
  jwks_uri?: string;
  algorithms?: string[];
  required_scopes?: string[];
  /** Leeway for exp/nbf/iat, ms (default 30 s). */
  clock_tolerance_ms?: number;
  /** Minimum time between JWKS refetches triggered by an unknown kid, ms (default 30 s). */
  jwks_cooldown_ms?: number;
  /** Maximum age of the cached JWKS, ms (default 10 min). */
  jwks_max_age_ms?: number;
  /** Uids besides Warden's own and root that may serve keys over plain http on this machine (loopback-owner.ts). */
  loopback_key_uids?: number[];
  /** Refuse a token whose header `typ` is present and is not `at+jwt` (RFC 9068), e.g. an ID token's `JWT` (default off). */
  require_access_token_type?: boolean;
  /** Refuse a token whose `iat` is older than this, ms, or that has no `iat` (default: no maximum age). */
  max_token_age_ms?: number;
  /** identity.oidc.dpop (durations in ms): DPoP-bound tokens (cnf.jkt) are taken, with a proof checked by the caller (server/http-dpop.ts). */
  dpop?: DpopOptions;
}


/** A verified token, reduced to what Warden uses. */
export interface VerifiedToken {
  principal: Principal;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
  clientId?: string;
  /** The token's DPoP key thumbprint (cnf.jkt), only when identity.oidc.dpop is configured. */
  jkt?: string;
}

/** Verifies bearer tokens for one configured issuer. */
export interface TokenVerifier {
  /** Verify `token` as sent with `scheme` (default Bearer): a DPoP-bound token only with DPoP, and the reverse (token-form.ts bindingProblem). */
  verify(token: string, scheme?: 'Bearer' | 'DPoP'): Promise<VerifiedToken>;
  /** Scopes in `required_scopes` that the token lacks (empty when none are required). */
  missingScopes(token: VerifiedToken): string[];
  readonly options: Readonly<OidcOptions>;
}

/** Why a token was refused; agent-safe, machine-matchable. */
export type TokenFailure = 'missing' | 'malformed' | 'expired' | 'too_old' | 'not_yet_valid' | 'wrong_audience' | 'wrong_issuer' | 'wrong_type' | 'sender_constrained' | 'not_bound' | 'dpop_proof' | 'dpop_replay_full' | 'dpop_nonce' | 'algorithm' | 'signature' | 'unknown_key' | 'claims' | 'issuer_unavailable';

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.string().url() }).passthrough();

const DISCOVERY_RETRY_MS = 5_000;
/**
 * After a key-set fetch that failed, no other is tried for this long (or jwks_cooldown, if shorter).
 * Why: jose starts its cooldown only after a fetch that succeeded, so while the key set answers
 * errors every token with a made-up kid (no token needed, any signature) was one more fetch.
 */
const JWKS_RETRY_MS = 5_000;
/**
 * The largest exp/nbf leeway a configuration may ask for: clocks drift by seconds, and a leeway
 * of an hour (say `30m` typed for `30s`) would keep every expired token working that long.
 */
export const MAX_CLOCK_TOLERANCE_MS = 300_000;
/** Verified tokens are remembered this long at most (bounds how long a revoked key keeps working). */
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_MAX = 10_000;

/** Build a verifier; throws WardenError(CONFIG) on an unsafe configuration (none or HS* algorithms). */
export function createOidcVerifier(opts: OidcOptions, fetchImpl: typeof fetch = fetch): TokenVerifier {
  const algorithms = opts.algorithms?.length ? opts.algorithms : [...DEFAULT_ALGORITHMS];
  const unsafe = algorithms.filter((a) => a.toLowerCase() === 'none' || /^HS/i.test(a));
  if (unsafe.length) {
    throw new WardenError(ErrorCode.CONFIG, `identity.oidc.algorithms: ${unsafe.join(', ')} cannot be used to verify tokens from an issuer (only asymmetric algorithms: ${DEFAULT_ALGORITHMS.join(', ')}, ...)`);
  }
  // The issuer URL is fetched only for discovery, i.e. when no jwks_uri is configured.
  const [fetchedKey, fetchedUrl] = opts.jwks_uri === undefined ? ['issuer', opts.issuer] : ['jwks_uri', opts.jwks_uri];
  const insecure = keySourceProblem(fetchedUrl);
  if (insecure) throw new WardenError(ErrorCode.CONFIG, `identity.oidc.${fetchedKey} ${insecure}: the issuer's keys decide every identity, so they are never fetched over plain http from another host`);
  const tolerance = opts.clock_tolerance_ms ?? 30_000;
  if (!(tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_MS)) {
    throw new WardenError(ErrorCode.CONFIG, `identity.oidc.clock_tolerance must be between 0 and ${MAX_CLOCK_TOLERANCE_MS / 1000}s (it lets expired tokens through for that long), got ${tolerance / 1000}s`);
  }
  const maxAge = opts.max_token_age_ms;
  if (maxAge !== undefined && !(Number.isFinite(maxAge) && maxAge >= 1000)) {
    throw new WardenError(ErrorCode.CONFIG, `identity.oidc.max_token_age must be at least 1s (shorter refuses every token), got ${maxAge}ms`);
  }
  let jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  let discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;
  let lastFailure: { at: number; err: WardenError } | null = null;
  // Same bytes, same answer: a signature check costs ~0.5 ms, so a verified token is remembered
  // briefly (never past its exp, never past VERIFIED_CACHE_MS). Keyed by the token in memory only.
  const verified = new Map<string, { v: VerifiedToken; until: number }>();

  const cooldown = opts.jwks_cooldown_ms ?? 30_000;
  const jwksRetryMs = Math.min(cooldown, JWKS_RETRY_MS);
  let jwksFailedAt = -Infinity;
  // Every key-set fetch jose makes goes through here: one that failed holds the next back.
  const gatedFetch = async (url: string, init: RequestInit): Promise<Response> => {
    if (Date.now() - jwksFailedAt < jwksRetryMs) throw new Error("the issuer's key set failed to load a moment ago");
    try {
      const res = await (isPlainLoopback(url) ? loopbackOwnedFetch(url, init, opts.loopback_key_uids) : fetch(url, init));
      // A 200 that is no key set fails in jose too: read here, so that it counts as a failure.
      const body = res.status === 200 ? await res.text() : '';
      if (res.status !== 200 || !isKeySet(body)) jwksFailedAt = Date.now();
      return res.status === 200 ? new Response(body, { status: 200, headers: res.headers }) : res;
    } catch (e) {
      jwksFailedAt = Date.now();
      throw e;
    }
  };
  const keySet = (uri: string) =>
    createRemoteJWKSet(new URL(uri), {
      cooldownDuration: cooldown,
      cacheMaxAge: opts.jwks_max_age_ms ?? 600_000,
      timeoutDuration: 5_000,
      [customFetch]: gatedFetch,
    });

  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (opts.jwks_uri) return keySet(opts.jwks_uri);
    const url = `${opts.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      // Redirects are followed only to URLs that could serve the document themselves (https, or http on this machine).
      const res = await fetchKeySource(url, fetchImpl, { signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } }, opts.loopback_key_uids);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (e) {
      throw fail('issuer_unavailable', `cannot fetch the issuer's discovery document (${(e as Error).message})`);
    }
    const doc = discoverySchema.safeParse(body);
    if (!doc.success) throw fail('issuer_unavailable', 'the issuer discovery document has no valid jwks_uri');
    if (doc.data.issuer !== opts.issuer) throw fail('issuer_unavailable', 'the issuer discovery document names another issuer');
    if (keySourceProblem(doc.data.jwks_uri)) throw fail('issuer_unavailable', 'the issuer discovery document names a key set that is not served over https');
    return keySet(doc.data.jwks_uri);
  }

  async function resolveKeys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (jwks) return jwks;
    if (lastFailure && Date.now() - lastFailure.at < DISCOVERY_RETRY_MS) throw lastFailure.err;
    discovering ??= discover().then(
      (k) => {
        jwks = k;
        lastFailure = null;
        return k;
      },
      (e: unknown) => {
        const err = e instanceof WardenError ? e : fail('issuer_unavailable', 'issuer discovery failed');
        lastFailure = { at: Date.now(), err };
        throw err;
      },
    );
    try {
      return await discovering;
    } finally {
      discovering = null;
    }
  }

  return {
    options: opts,
    verify(token, scheme = 'Bearer') {
      // Without identity.oidc.dpop no token has a jkt (a cnf is refused): a Bearer use is verified as it always was.
      if (!opts.dpop && scheme === 'Bearer') return verifyToken(token);
      // The binding is checked on every use, cached or not: the same token is refused as Bearer and taken as DPoP.
      return verifyToken(token).then((v) => {
        const bind = bindingProblem(v.jkt, scheme);
        if (bind) throw fail(bind.reason, bind.message);
        return v;
      });
    },
    missingScopes(t) {
      return (opts.required_scopes ?? []).filter((s) => !t.scopes.includes(s));
    },
  };

  async function verifyToken(token: string): Promise<VerifiedToken> {
    if (!token || typeof token !== 'string') throw fail('missing', 'no bearer token');
    if (token.length > 16_384 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) throw fail('malformed', 'the bearer token is not a compact JWT');
    const hit = verified.get(token);
    if (hit && Date.now() < hit.until) return hit.v;
    if (hit) verified.delete(token);
    const keys = await resolveKeys();
    let payload: JWTPayload;
    let header: { typ?: unknown };
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, keys, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms,
        clockTolerance: Math.round(tolerance / 1000),
        requiredClaims: ['sub', 'exp', 'iss', 'aud'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    // jose compares iat with the clock only when given a maxTokenAge: a token minted in the
    // future (a skewed or misused signer) would otherwise pass, outliving what its exp suggests.
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000) + Math.round(tolerance / 1000)) {
      throw fail('not_yet_valid', 'the token was issued in the future (its iat is later than now plus the clock leeway)');
    }
    // Checked after the signature, so an unsigned header cannot pick its own refusal.
    const typeProblem = opts.require_access_token_type ? tokenTypeProblem(header.typ) : null;
    if (typeProblem) throw fail('wrong_type', typeProblem);
    const age = maxAge === undefined ? null : tokenAgeProblem(payload.iat, maxAge, tolerance);
    if (age) throw fail(age.reason, age.message);
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 512) throw fail('claims', 'the token has no usable sub claim');
    // Signed, but read otherwise by another reader, or bound to a key whose proof Warden does not check (token-form.ts).
    const form = tokenFormProblem(token, payload, opts.dpop !== undefined);
    if (form) throw fail(form.reason, form.message);
    const principal: Principal = {
      subject: payload.sub,
      groups: groupsFromClaims(payload, opts.groups_claim ?? 'groups', opts.groups_string ?? 'refuse'),
      claims: principalClaims(payload),
      authMethod: 'oidc',
    };
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
    // With a maximum age, the token is done at iat + that age if its exp is later: sessions,
    // streams and the cache below end then.
    const expiresAt = maxAge === undefined ? payload.exp! : Math.min(payload.exp!, (payload.iat as number) + Math.floor(maxAge / 1000));
    const jkt = opts.dpop ? boundKey(payload) : undefined;
    const result: VerifiedToken = { principal, scopes: scopesOf(payload), expiresAt, ...(clientId ? { clientId } : {}), ...(jkt ? { jkt } : {}) };
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { v: result, until: Math.min(Date.now() + VERIFIED_CACHE_MS, expiresAt * 1000) });
    return result;
  }
}

/** Whether a key-set response body is a JSON object with a `keys` array. */
function isKeySet(body: string): boolean {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);
  } catch {
    return false;
  }
}

/** `scope` (space-delimited, RFC 8693/9068) or `scp` (array or string). */
function scopesOf(p: JWTPayload): string[] {
  const out = new Set<string>();
  for (const v of [p.scope, p.scp]) {
    if (typeof v === 'string') v.split(/\s+/).filter(Boolean).forEach((s) => out.add(s));
    else if (Array.isArray(v)) v.filter((s): s is string => typeof s === 'string').forEach((s) => out.add(s));
  }
  return [...out];
}
