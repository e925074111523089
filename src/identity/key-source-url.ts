/**
 * Where an issuer's keys may come from. The JWKS decides who can mint any identity here, so it
 * is fetched over https, or over plain http only from this machine (a local issuer, as in tests):
 * over plain http to another host an on-path attacker would serve their own keys. On this
 * machine, only from a server of Warden's own user, root or a uid in identity.oidc.loopback_key_uids,
 * since any local user may listen on a free port (loopback-owner.ts).
 */
import { loopbackOwnedFetch } from './loopback-owner.js';

/** Whether a URL's host is this machine (localhost, 127.0.0.0/8, ::1): plain http is safe only there. */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** Why a URL cannot carry an issuer's discovery document or keys, or null when it can. */
export function keySourceProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return null;
  return `must be an https URL (plain http is accepted only on this machine), got ${u.protocol}//${u.host}`;
}

/** Whether a URL is plain http to this machine: fetched with loopbackOwnedFetch, never another fetch. */
export function isPlainLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}

/** Redirects a discovery fetch follows at most. */
const MAX_REDIRECTS = 3;

/**
 * Fetch an issuer's discovery document, following a redirect only to a URL that could carry it
 * itself (keySourceProblem), hop by hop. Why: a redirect to plain http on another host hands the
 * document to whoever is on that path, and the document names the key set; the key set itself
 * is fetched by jose, which follows no redirects.
 */
export async function fetchKeySource(url: string, fetchImpl: typeof fetch, init: RequestInit = {}, loopbackUids: readonly number[] = []): Promise<Response> {
  let at = url;
  for (let hop = 0; ; hop++) {
    const res = await (isPlainLoopback(at) ? loopbackOwnedFetch(at, init, loopbackUids) : fetchImpl(at, { ...init, redirect: 'manual' }));
    if (res.status < 300 || res.status > 399 || res.status === 304) return res;
    const location = res.headers.get('location');
    if (!location) return res;
    await res.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, at).href;
    const problem = keySourceProblem(next);
    if (problem) throw new Error(`it redirects to a URL that ${problem}`);
    at = next;
  }
}
