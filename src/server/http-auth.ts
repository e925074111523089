/**
 * The OAuth 2.1 resource-server face of the HTTP transport: bearer authentication with RFC 6750
 * challenges (and DPoP-bound tokens with their proofs, RFC 9449, through http-dpop.ts) and the
 * RFC 9728 protected-resource metadata that points clients at the issuer.
 * The bearer token stops here: the principal goes on, the token never reaches a tool or backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, WardenError } from '../errors.js';
import type { TokenVerifier, VerifiedToken } from '../identity/oidc.js';
import { DPOP_ALGORITHMS } from '../identity/dpop-proof.js';
import { INSUFFICIENT_SCOPE, verifyBearerToken } from './http-verifier.js';
import type { DpopGate } from './http-dpop.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Where the resource lives and where its metadata is advertised. */
export interface ResourceInfo {
  /** The resource identifier (= the configured audience). */
  resource: string;
  /** Absolute URL of the metadata document advertised in challenges. */
  metadataUrl: string;
  /** Paths (on this server) that serve the metadata document. */
  metadataPaths: string[];
  document: Record<string, unknown>;
}

/** Build the RFC 9728 document and its URLs from the OIDC config and the listening base URL. */
export function resourceInfo(verifier: TokenVerifier, baseUrl: string, mcpPath: string): ResourceInfo {
  const o = verifier.options;
  let resourceUrl: URL | null = null;
  try {
    resourceUrl = /^https?:\/\//i.test(o.audience) ? new URL(o.audience) : null;
  } catch {
    resourceUrl = null;
  }
  const suffix = (p: string) => (p === '/' || p === '' ? '' : p.replace(/\/+$/, ''));
  const paths = new Set([WELL_KNOWN, WELL_KNOWN + suffix(mcpPath)]);
  if (resourceUrl) paths.add(WELL_KNOWN + suffix(resourceUrl.pathname));
  const metadataUrl = resourceUrl ? `${resourceUrl.origin}${WELL_KNOWN}${suffix(resourceUrl.pathname)}` : `${baseUrl}${WELL_KNOWN}${suffix(mcpPath)}`;
  const document: Record<string, unknown> = {
    resource: o.audience,
    authorization_servers: [o.issuer],
    bearer_methods_supported: ['header'],
    resource_name: 'Warden',
    ...(o.required_scopes?.length ? { scopes_supported: o.required_scopes } : {}),
    ...(o.dpop ? { dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS], dpop_bound_access_tokens_required: o.dpop.required } : {}),
  };
  return { resource: o.audience, metadataUrl, metadataPaths: [...paths], document };
}

/** Serve the metadata document when the path is one of its paths; true when answered. */
export function serveResourceMetadata(info: ResourceInfo, path: string, req: IncomingMessage, res: ServerResponse): boolean {
  if (!info.metadataPaths.includes(path)) return false;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS' }).end();
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, OPTIONS' }).end();
  } else {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' }).end(JSON.stringify(info.document));
  }
  return true;
}

/**
 * A quoted-string of visible ASCII: a refusal's text may quote what a token carried (its `typ`),
 * and a header value outside Latin-1 or with a control character made Node throw (a 500).
 */
function quote(v: string): string {
  return `"${v.replace(/["\\]/g, ' ').replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * Authenticate a request: the verified token, or null after answering 401/403/503 with a
 * `WWW-Authenticate` challenge that names the metadata document: `Bearer`, and with `dpop`
 * (identity.oidc.dpop) `DPoP` too (RFC 9449 section 7.1; only `DPoP` when it is required), the
 * error on the challenge of the scheme the request used. With dpop.nonce, a proof without a
 * current server nonce gets `use_dpop_nonce` and a `DPoP-Nonce` header (RFC 9449 section 9), and
 * every authenticated request's response the current nonce.
 */
export async function authenticate(req: IncomingMessage, res: ServerResponse, verifier: TokenVerifier, info: ResourceInfo, log: Log, dpop: DpopGate | null = null): Promise<VerifiedToken | null> {
  const header = req.headers.authorization;
  const meta = `resource_metadata=${quote(info.metadataUrl)}`;
  // The challenge(s): `params` (an error, and the metadata URL) on the scheme `used`, the other accepted scheme bare.
  const www = (used: 'Bearer' | 'DPoP', params: string): string | string[] => {
    if (!dpop) return `Bearer ${params}`;
    const bearer = dpop.required ? [] : [used === 'Bearer' ? `Bearer ${params}` : `Bearer ${meta}`];
    return [...bearer, used === 'DPoP' || dpop.required ? `DPoP ${params}, algs="${dpop.algs}"` : `DPoP algs="${dpop.algs}", ${meta}`];
  };
  // Node keeps the first of several Authorization headers, a proxy in front may keep the last:
  // two identities in one request are refused (RFC 6750 3.1, invalid_request), not picked from.
  if (countHeader(req.rawHeaders, 'authorization') > 1) {
    log('warn', 'http request refused: more than one Authorization header', { remote: req.socket.remoteAddress });
    challenge(res, 400, www('Bearer', `error="invalid_request", error_description="send one Authorization header", ${meta}`), 'invalid_request', 'more than one Authorization header');
    return null;
  }
  const m = typeof header === 'string' ? (dpop ? /^(Bearer|DPoP)[ ]+([^\s]+)[ ]*$/i : /^(Bearer)[ ]+([^\s]+)[ ]*$/i).exec(header) : null;
  if (!m) {
    const bad = typeof header === 'string' && header.length > 0;
    const expected = dpop ? (dpop.required ? 'DPoP <token> and a DPoP proof header' : 'Bearer <token>, or DPoP <token> and a DPoP proof header') : 'Bearer <token>';
    challenge(res, 401, www('Bearer', bad ? `error="invalid_request", error_description="expected: Authorization: ${expected}", ${meta}` : meta), bad ? 'invalid_request' : 'invalid_token', bad ? `the Authorization header is not ${dpop ? 'a Bearer or DPoP' : 'a Bearer'} token` : dpop?.required ? 'a DPoP-bound token and its DPoP proof are required' : 'a bearer token is required');
    return null;
  }
  const scheme = m[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  // DPoP: exactly one proof (RFC 9449 section 4.3, check 1); Bearer while DPoP is required: refused before any token work.
  let proof: ((v: VerifiedToken & { jkt: string }) => Promise<void>) | undefined;
  if (dpop && scheme === 'DPoP') {
    const n = countHeader(req.rawHeaders, 'dpop');
    const value = req.headers.dpop;
    if (n !== 1 || typeof value !== 'string') {
      const why = n === 0 ? 'a DPoP-scheme request needs a DPoP proof header' : 'send one DPoP proof header';
      log('warn', 'http request refused: DPoP proof header missing or repeated', { proofs: n, remote: req.socket.remoteAddress });
      challenge(res, 401, www('DPoP', `error="invalid_dpop_proof", error_description="${why}", ${meta}`), 'invalid_dpop_proof', why, { code: ErrorCode.UNAUTHENTICATED, reason: 'dpop_proof' });
      return null;
    }
    proof = dpop.proofCheck(req, value, m[2]!);
  } else if (dpop?.required) {
    const why = 'identity.oidc.dpop.required: this server takes DPoP-bound tokens only (Authorization: DPoP and a DPoP proof)';
    log('warn', 'http request refused: bearer token while DPoP is required', { remote: req.socket.remoteAddress });
    challenge(res, 401, www('DPoP', `error="invalid_token", error_description=${quote(why)}, ${meta}`), 'invalid_token', why, { code: ErrorCode.UNAUTHENTICATED, reason: 'dpop_required' });
    return null;
  }
  let verified: VerifiedToken;
  try {
    // The shared helper verifies the token, its DPoP proof if any, and its required scopes (the same check as every other token path).
    verified = await verifyBearerToken(verifier, m[2]!, proof);
  } catch (e) {
    const err = e instanceof WardenError ? e : new WardenError(ErrorCode.UNAUTHENTICATED, 'token verification failed');
    const reason = String(err.details.reason ?? 'invalid');
    if (reason === INSUFFICIENT_SCOPE) {
      const missing = Array.isArray(err.details.missing) ? (err.details.missing as string[]) : [];
      const scope = (verifier.options.required_scopes ?? []).join(' ');
      log('warn', 'http request refused: insufficient scope', { subject: err.details.subject, missing });
      challenge(res, 403, www(scheme, `error="insufficient_scope", scope=${quote(scope)}, error_description=${quote(`missing scope(s): ${missing.join(' ')}`)}, ${meta}`), 'insufficient_scope', `the token lacks the required scope(s): ${missing.join(' ')}`);
      return null;
    }
    // A nonce wanted is the protocol's normal first exchange (RFC 9449 section 9), not a warning.
    log(reason === 'dpop_nonce' ? 'debug' : 'warn', 'http request refused: bearer token rejected', { reason, scheme, remote: req.socket.remoteAddress });
    const coded = { code: err.code, reason };
    if (reason === 'issuer_unavailable' || reason === 'dpop_replay_full') {
      res.setHeader('retry-after', '5');
      challenge(res, 503, www(scheme, `error="temporarily_unavailable", ${meta}`), 'temporarily_unavailable', err.message, dpop ? coded : undefined);
    } else {
      // A server nonce wanted (RFC 9449 section 9): the client makes its proof again with the one sent here.
      if (reason === 'dpop_nonce' && dpop?.nonce) res.setHeader('dpop-nonce', dpop.nonce());
      const error = reason === 'dpop_proof' ? 'invalid_dpop_proof' : reason === 'dpop_nonce' ? 'use_dpop_nonce' : 'invalid_token';
      challenge(res, 401, www(scheme, `error="${error}", error_description=${quote(err.message)}, ${meta}`), error, err.message, dpop ? coded : undefined);
    }
    return null;
  }
  // Server nonces on: every served response carries the current one, so a client keeps its next proof good.
  if (dpop?.nonce) res.setHeader('dpop-nonce', dpop.nonce());
  return verified;
}

/** How many times a header (lower-case name) occurs in Node's rawHeaders (name, value, name, value, ...). */
function countHeader(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

/**
 * The refusal, and the connection closed after it: an unauthenticated body is never read, and one
 * that never finishes (a slow-loris) must not hold its socket until the request timeout.
 */
function challenge(res: ServerResponse, status: number, wwwAuthenticate: string | string[], error: string, description: string, coded?: { code: string; reason: string }): void {
  res.writeHead(status, { 'www-authenticate': wwwAuthenticate, 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' });
  // Every refusal names its WARDEN_* code (http-guards.ts codedRefusal), an OAuth one too.
  const code = coded ?? { code: status === 403 ? ErrorCode.DENIED : status === 503 ? ErrorCode.UNAVAILABLE : ErrorCode.UNAUTHENTICATED };
  res.end(JSON.stringify({ error, error_description: description, ...code }));
}
