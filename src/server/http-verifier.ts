/**
 * The token verifier built from warden.yaml's identity.oidc, shared by the HTTP transport, stdio
 * clients that present WARDEN_TOKEN, the reviewer CLI (`--token`) and the reviewer UI token login.
 * Every one of them goes through verifyBearerToken, so none can skip the required_scopes check.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { createOidcVerifier, type TokenVerifier, type VerifiedToken } from '../identity/oidc.js';
import type { Principal } from '../tool-api.js';
import type { Runtime } from './runtime.js';

/** Build the verifier from warden.yaml; HTTP without OIDC would have no identity, so it refuses. */
export function verifierFromConfig(rt: Pick<Runtime, 'config'>): TokenVerifier {
  const o = rt.config.identity.oidc;
  if (!o) throw new WardenError(ErrorCode.CONFIG, 'serve --http needs identity.oidc in warden.yaml (every HTTP request must carry a verified bearer token)');
  return createOidcVerifier({
    issuer: o.issuer,
    audience: o.audience,
    groups_claim: o.groups_claim,
    groups_string: o.groups_string,
    ...(o.jwks_uri ? { jwks_uri: o.jwks_uri } : {}),
    ...(o.algorithms ? { algorithms: o.algorithms } : {}),
    required_scopes: o.required_scopes,
    clock_tolerance_ms: o.clock_tolerance,
    jwks_cooldown_ms: o.jwks_cooldown,
    jwks_max_age_ms: o.jwks_max_age,
    loopback_key_uids: o.loopback_key_uids,
    require_access_token_type: o.require_access_token_type,
    ...(o.max_token_age !== undefined ? { max_token_age_ms: o.max_token_age } : {}),
    ...(o.dpop
      ? {
          dpop: {
            required: o.dpop.required,
            max_age_ms: o.dpop.max_age,
            clock_skew_ms: o.dpop.clock_skew,
            replay_cache_size: o.dpop.replay_cache_size,
            ...(o.dpop.public_url ? { public_url: o.dpop.public_url } : {}),
            ...(o.dpop.nonce ? { nonce: { lifetime_ms: o.dpop.nonce_lifetime, ...(o.dpop.nonce_key ? { key_ref: o.dpop.nonce_key } : {}) } } : {}),
          },
        }
      : {}),
  });
}

/**
 * `details.reason` of the refusal for a verified token that lacks a required scope. The HTTP
 * transport answers it with 403 `insufficient_scope`; every other reason is a 401 (or a 503 for
 * `issuer_unavailable`). Why a reason and not a code: callers match on it as they do on TokenFailure.
 */
export const INSUFFICIENT_SCOPE = 'insufficient_scope';

/**
 * Verify a bearer token AND check identity.oidc.required_scopes: the one entry point for every
 * place that accepts a token (HTTP, stdio WARDEN_TOKEN, reviewer CLI, reviewer UI), so a caller
 * cannot forget the scope check. With `proof` (HTTP's DPoP scheme only): a DPoP-bound token, and
 * `proof` checks its DPoP proof; without (every other path): never a bound token. Throws WardenError(UNAUTHENTICATED) with `details.reason` set to
 * the TokenFailure from verification, or to INSUFFICIENT_SCOPE with `details.missing`.
 */
export async function verifyBearerToken(verifier: TokenVerifier, token: string, proof?: (v: VerifiedToken & { jkt: string }) => Promise<void>): Promise<VerifiedToken> {
  let verified: VerifiedToken;
  try {
    verified = await verifier.verify(token.trim(), proof ? 'DPoP' : 'Bearer');
    // DPoP: the token is bound (verify refuses one that is not), and its proof is checked before anything else is said of it.
    if (proof) await proof(verified as VerifiedToken & { jkt: string });
  } catch (e) {
    throw e instanceof WardenError ? e : new WardenError(ErrorCode.UNAUTHENTICATED, 'token verification failed', { reason: 'invalid' });
  }
  const missing = verifier.missingScopes(verified);
  if (missing.length) {
    throw new WardenError(ErrorCode.UNAUTHENTICATED, `the token lacks the required scope(s): ${missing.join(' ')}`, { reason: INSUFFICIENT_SCOPE, missing, subject: verified.principal.subject });
  }
  return verified;
}

/** Verify WARDEN_TOKEN for a stdio client: its principal, or a coded refusal to start (fail closed). */
export async function principalFromToken(rt: Pick<Runtime, 'config'>, token: string): Promise<Principal> {
  return (await verifiedFromToken(rt, token)).principal;
}

/** Like principalFromToken, with the token's expiry (epoch seconds), so a stdio session ends with its token. */
export async function verifiedFromToken(rt: Pick<Runtime, 'config'>, token: string): Promise<{ principal: Principal; expiresAt: number }> {
  const verifier = verifierFromConfig(rt);
  let verified: VerifiedToken;
  try {
    verified = await verifyBearerToken(verifier, token);
  } catch (e) {
    if (e instanceof WardenError && e.details.reason === INSUFFICIENT_SCOPE) {
      throw new WardenError(ErrorCode.UNAUTHENTICATED, `WARDEN_TOKEN lacks the required scope(s) ${(e.details.missing as string[]).join(' ')}; refusing to start`, e.details);
    }
    const reason = e instanceof WardenError ? ` (${String(e.details.reason ?? e.code)}: ${e.message})` : '';
    throw new WardenError(ErrorCode.UNAUTHENTICATED, `WARDEN_TOKEN could not be verified${reason}; refusing to start`);
  }
  return { principal: verified.principal, expiresAt: verified.expiresAt };
}
