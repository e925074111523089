/**
 * The token verifier built from warden.yaml's identity.oidc, shared by the HTTP transport and by
 * stdio clients that present WARDEN_TOKEN.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { createOidcVerifier, type TokenVerifier } from '../identity/oidc.js';
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
    ...(o.jwks_uri ? { jwks_uri: o.jwks_uri } : {}),
    ...(o.algorithms ? { algorithms: o.algorithms } : {}),
    required_scopes: o.required_scopes,
    clock_tolerance_ms: o.clock_tolerance,
    jwks_cooldown_ms: o.jwks_cooldown,
    jwks_max_age_ms: o.jwks_max_age,
  });
}

/** Verify WARDEN_TOKEN for a stdio client: its principal, or a coded refusal to start (fail closed). */
export async function principalFromToken(rt: Pick<Runtime, 'config'>, token: string): Promise<Principal> {
  return (await verifiedFromToken(rt, token)).principal;
}

/** Like principalFromToken, with the token's expiry (epoch seconds), so a stdio session ends with its token. */
export async function verifiedFromToken(rt: Pick<Runtime, 'config'>, token: string): Promise<{ principal: Principal; expiresAt: number }> {
  const verifier = verifierFromConfig(rt);
  let verified;
  try {
    verified = await verifier.verify(token.trim());
  } catch (e) {
    const reason = e instanceof WardenError ? ` (${String(e.details.reason ?? e.code)}: ${e.message})` : '';
    throw new WardenError(ErrorCode.UNAUTHENTICATED, `WARDEN_TOKEN could not be verified${reason}; refusing to start`);
  }
  const missing = verifier.missingScopes(verified);
  if (missing.length) throw new WardenError(ErrorCode.UNAUTHENTICATED, `WARDEN_TOKEN lacks the required scope(s) ${missing.join(' ')}; refusing to start`);
  return { principal: verified.principal, expiresAt: verified.expiresAt };
}
