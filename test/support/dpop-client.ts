/**
 * A DPoP (RFC 9449) client for tests: an ES256 key pair, proofs signed with it (or forged ones),
 * and an MCP client over Streamable HTTP whose fetch sends `Authorization: DPoP <token>` and a
 * fresh proof with every request.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { agentOf, type HttpAgent } from './http-agent.js';

/** What a proof says and how it is made; every field has a good default. */
export interface ProofOptions {
  htm?: string;
  htu?: string;
  /** Seconds since the epoch (default now). */
  iat?: number;
  jti?: string;
  /** The access token whose hash is `ath` (default: the one given to proof()). */
  athOf?: string;
  /** Header overrides (alg, typ, jwk). */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the holder's (the header's jwk stays the holder's unless overridden). */
  signWith?: CryptoKey | Uint8Array;
  /** The `nonce` claim (a server's DPoP-Nonce; any JSON value, to forge one); absent by default. */
  nonce?: unknown;
}

/** A key holder. */
export interface DpopHolder {
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the token's cnf.jkt. */
  jkt: string;
  privateKey: CryptoKey;
  proof(token: string, o?: ProofOptions): Promise<string>;
}

/** A fresh ES256 key holder whose proofs name `htu` by default. */
export async function dpopHolder(htu: string): Promise<DpopHolder> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    jwk,
    jkt,
    privateKey,
    proof(token, o = {}) {
      const claims = {
        jti: o.jti ?? randomUUID(),
        htm: o.htm ?? 'POST',
        htu: o.htu ?? htu,
        iat: o.iat ?? Math.floor(Date.now() / 1000),
        ath: createHash('sha256').update(o.athOf ?? token).digest('base64url'),
        ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
      };
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...o.header } as { alg: string }).sign(o.signWith ?? privateKey);
    },
  };
}

/**
 * Connect an MCP client to `${base}/mcp` presenting `token` with the DPoP scheme and a fresh proof
 * per request. As RFC 9449 section 8 has a client do: the last `DPoP-Nonce` a response carried
 * goes into the next proof, and a 401 `use_dpop_nonce` is retried once with the nonce it carries.
 */
export async function connectDpopAgent(base: string, token: string, holder: DpopHolder): Promise<HttpAgent & { proofs: () => number; nonceChallenges: () => number }> {
  let proofs = 0;
  let nonceChallenges = 0;
  let nonce: string | undefined;
  const send = async (url: string | URL, init: RequestInit | undefined): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `DPoP ${token}`);
    headers.set('dpop', await holder.proof(token, { htm: (init?.method ?? 'GET').toUpperCase(), ...(nonce !== undefined ? { nonce } : {}) }));
    proofs++;
    const r = await fetch(url, { ...init, headers });
    nonce = r.headers.get('dpop-nonce') ?? nonce;
    return r;
  };
  const dpopFetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const r = await send(url, init);
    if (r.status !== 401 || !/error="use_dpop_nonce"/.test(r.headers.get('www-authenticate') ?? '') || !r.headers.get('dpop-nonce')) return r;
    nonceChallenges++;
    await r.body?.cancel();
    return send(url, init);
  };
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: dpopFetch });
  const client = new Client({ name: 'warden-dpop-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return { ...agentOf(client, transport), proofs: () => proofs, nonceChallenges: () => nonceChallenges };
}
