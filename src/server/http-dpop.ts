/**
 * DPoP (RFC 9449) on /mcp, when identity.oidc.dpop is configured: the URL proofs must name, the
 * process's replay cache, the server nonces when dpop.nonce is on (their key resolved here, once),
 * and the proof check handed to verifyBearerToken for a request sent with `Authorization: DPoP`.
 * Built once at start; nothing of it runs for a Bearer request but the current nonce's header.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, WardenError } from '../errors.js';
import { checkDpopProof, DPOP_ALGORITHMS, normaliseHtu } from '../identity/dpop-proof.js';
import { createReplayCache } from '../identity/dpop-replay.js';
import { createNonceIssuer, MIN_NONCE_KEY_CHARS, type NonceIssuer } from '../identity/dpop-nonce.js';
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
  /** identity.oidc.dpop.nonce on: the current nonce (the DPoP-Nonce header's value); null when off. */
  nonce: (() => string) | null;
}

/** What the gate needs besides the verifier's options. */
export interface DpopGateDeps {
  /** Resolves a secret reference (dpop.nonce_key) as the config's other secrets are. */
  resolveSecret(ref: string): Promise<string>;
  /** The clock of the checks (tests move it); default Date.now. */
  now?: () => number;
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

/**
 * The nonces of dpop.nonce: keyed by nonce_key when set (a key shorter than MIN_NONCE_KEY_CHARS is
 * refused, WARDEN_CONFIG: nonces are public, a weak key could be guessed from them), else by a
 * random key of this process, which no replica shares.
 */
async function nonceIssuer(n: { lifetime_ms: number; key_ref?: string }, deps: DpopGateDeps): Promise<NonceIssuer> {
  if (n.key_ref === undefined) return createNonceIssuer(n.lifetime_ms);
  const key = await deps.resolveSecret(n.key_ref);
  if (key.length < MIN_NONCE_KEY_CHARS) {
    throw new WardenError(ErrorCode.CONFIG, `identity.oidc.dpop.nonce_key (${n.key_ref}) is shorter than ${MIN_NONCE_KEY_CHARS} characters: use a random key, e.g. openssl rand -hex 32`);
  }
  return createNonceIssuer(n.lifetime_ms, key);
}

/** The gate for this verifier's configuration; null when DPoP is not configured. */
export async function createDpopGate(verifier: TokenVerifier, mcpPath: string, deps: DpopGateDeps): Promise<DpopGate | null> {
  const d = verifier.options.dpop;
  if (!d) return null;
  const htu = expectedHtu(verifier.options.audience, d.public_url, mcpPath);
  const replay = createReplayCache(d.replay_cache_size);
  const nonces = d.nonce ? await nonceIssuer(d.nonce, deps) : undefined;
  const window = { maxAgeMs: d.max_age_ms, skewMs: d.clock_skew_ms, replay, ...(nonces ? { nonce: nonces } : {}) };
  const now = deps.now ?? Date.now;
  return {
    required: d.required,
    algs: DPOP_ALGORITHMS.join(' '),
    htu,
    proofCheck: (req, proof, token) => (v) => checkDpopProof({ proof, method: req.method ?? '', htu, accessToken: token, jkt: v.jkt }, window, now()),
    nonce: nonces ? () => nonces.current(now()) : null,
  };
}
