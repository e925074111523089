/**
 * DPoP (RFC 9449) on /mcp, when identity.oidc.dpop is configured: the URL proofs must name, the
 * process's replay cache, and the proof check handed to verifyBearerToken for a request sent with
 * `Authorization: DPoP`. Built once at start; nothing of it runs for a Bearer request.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, WardenError } from '../errors.js';
import { checkDpopProof, DPOP_ALGORITHMS, normaliseHtu } from '../identity/dpop-proof.js';
import { createReplayCache } from '../identity/dpop-replay.js';
import type { TokenVerifier, VerifiedToken } from '../identity/oidc.js';

/** The DPoP side of authentication. */
export interface DpopGate {
  /** identity.oidc.dpop.required: Bearer tokens are refused. */
  required: boolean;
  /** The `algs` challenge parameter (RFC 9449 section 7.1). */
  algs: string;
  /** The URL proofs must name (normalised). */
  htu: string;
  /** The check of `proof` (the request's one DPoP header) for `token` sent on `req`. */
  proofCheck(req: IncomingMessage, proof: string, token: string): (v: VerifiedToken & { jkt: string }) => Promise<void>;
}

/**
 * The URL a proof's htu must name: identity.oidc.dpop.public_url, else the audience when it is an
 * http(s) URL (the MCP resource identifier is the endpoint's URL; an audience that is an origin
 * alone stands for its `mcpPath`). Why not the Host header: behind a proxy it names what the
 * proxy chose, and a client can send any; a configured URL is what the client was told to use.
 */
export function expectedHtu(audience: string, publicUrl: string | undefined, mcpPath: string): string {
  const from = publicUrl ?? audience;
  let u: URL | null = null;
  try {
    u = /^https?:\/\//i.test(from) ? new URL(from) : null;
  } catch {
    u = null;
  }
  const norm = u ? normaliseHtu(u.pathname === '/' && publicUrl === undefined ? `${u.origin}${mcpPath}` : u.href) : null;
  if (!norm) {
    throw new WardenError(ErrorCode.CONFIG, `identity.oidc.dpop needs the URL clients send MCP requests to (a proof names it): identity.oidc.audience is no http(s) URL, so set identity.oidc.dpop.public_url (e.g. https://warden.example.com${mcpPath})`);
  }
  return norm;
}

/** The gate for this verifier's configuration; null when DPoP is not configured. */
export function createDpopGate(verifier: TokenVerifier, mcpPath: string): DpopGate | null {
  const d = verifier.options.dpop;
  if (!d) return null;
  const htu = expectedHtu(verifier.options.audience, d.public_url, mcpPath);
  const replay = createReplayCache(d.replay_cache_size);
  const window = { maxAgeMs: d.max_age_ms, skewMs: d.clock_skew_ms, replay };
  return {
    required: d.required,
    algs: DPOP_ALGORITHMS.join(' '),
    htu,
    proofCheck: (req, proof, token) => (v) => checkDpopProof({ proof, method: req.method ?? '', htu, accessToken: token, jkt: v.jkt }, window),
  };
}
