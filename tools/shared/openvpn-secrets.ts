/**
 * OpenVPN's secrets in text: a `.ovpn`/`.conf` profile's inline blocks (`<tls-auth>`,
 * `<tls-crypt>`, `<tls-crypt-v2>`, `<secret>`, `<key>`, `<pkcs12>`, and `<auth-user-pass>` /
 * `<http-proxy-user-pass>`, a user line then a password line), and a static key file on its own
 * (`ta.key`: `-----BEGIN OpenVPN Static key V1-----` then hex lines, which the private-key
 * detector, reading `PRIVATE KEY` armour, does not know). Why by structure: each holds only the
 * value, with no name beside it for secret-text.ts to read. Every line between the opening and
 * the closing tag or armour is masked whole (`***`); a block left open masks to the end of the text.
 * One pass over the lines, so the cost is linear.
 */

const MASK = '***';
/** The inline blocks whose lines are a key or a password (openvpn(8), INLINE FILE SUPPORT). */
const OPEN = /^[ \t]*<(tls-auth|tls-crypt|tls-crypt-v2|secret|key|pkcs12|auth-user-pass|http-proxy-user-pass)>[ \t]*\r?$/;
/** A static or tls-crypt-v2 key's armour (`openvpn --genkey`). */
const ARMOUR = /^[ \t]*-----BEGIN OpenVPN (?:Static key V1|tls-crypt-v2 (?:client|server) key)-----[ \t]*\r?$/;
/** grep's `FILE:` / `FILE:12:` / `FILE-12-` prefix before a tag (a masked line is masked whole: a value may hold `:` or `-`). */
const LEAD = /^(?:[^\s:]+[:-](?:\d+[:-])?)?/;

/** Mask OpenVPN's inline secret blocks and static keys (see the module comment); `count.n` grows by each line masked. */
export function maskOpenVpnSecrets(text: string, count?: { n: number }): string {
  if (!text.includes('<') && !text.includes('-----BEGIN OpenVPN')) return text;
  const lines = text.split('\n');
  let close: RegExp | null = null;
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const lead = LEAD.exec(line)?.[0] ?? '';
    const body = line.slice(lead.length);
    if (close === null) {
      const tag = OPEN.exec(line) ?? OPEN.exec(body);
      if (tag !== null) close = new RegExp(`^[ \\t]*</${tag[1] as string}>`);
      else if (ARMOUR.test(line) || ARMOUR.test(body)) close = /^[ \t]*-----END OpenVPN /;
      continue;
    }
    if (close.test(body) || close.test(line)) {
      close = null;
      continue;
    }
    if (body.trim() === '' || body.trim() === MASK) continue;
    lines[i] = MASK;
    changed = true;
    if (count) count.n++;
  }
  return changed ? lines.join('\n') : text;
}
