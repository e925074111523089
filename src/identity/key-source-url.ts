/**
 * Where an issuer's keys may come from. The JWKS decides who can mint any identity here, so it
 * is fetched over https, or over plain http only from this machine (a local issuer, as in tests):
 * over plain http to another host an on-path attacker would serve their own keys.
 */

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
