/**
 * A private key's base64 body without its `-----BEGIN ... PRIVATE KEY-----` line: what
 * `tail -n +2 id_ed25519` or `grep -v -- -----` prints, or a YAML/JSON value holding the body
 * alone. The PEM detector looks for the BEGIN line; this one knows how the bodies start, since
 * the first bytes of each key format are fixed (openssh-key-v1; PKCS#1 RSA, PKCS#8 RSA, EC,
 * Ed25519/Ed448, encrypted PKCS#8; SEC1 EC), and masks the body through its last base64 line.
 * A lone base64 line that starts otherwise (a public key, a certificate) is left alone.
 */
import type { Detector, HitCounts } from './detectors.js';

const B64 = '[A-Za-z0-9+/]';
const STARTS = [
  'b3BlbnNzaC1rZXktdjE', // "openssh-key-v1"
  `MII${B64}{3}IBAAKC`, // PKCS#1 RSA: SEQUENCE, version 0, INTEGER modulus
  `MII${B64}{3}IBADANBgkqhkiG9w0BAQEFAAS`, // PKCS#8 rsaEncryption
  `MI[GH]${B64}AgEAMB${B64}GByqGSM4[49]`, // PKCS#8 id-ecPublicKey / id-dsa
  `MII${B64}{3}IBADCCA${B64}{2}GByqGSM44`, // PKCS#8 DSA (long form)
  'MHcCAQEE', // SEC1 EC P-256
  `MI[GH]${B64}AgEBB[DE]`, // SEC1 EC P-384 / P-521
  'MC4CAQAwBQYDK2V[wu]', // PKCS#8 Ed25519 / X25519
  'MEcCAQAwBQYDK2V[xv]', // PKCS#8 Ed448 / X448
  `MII${B64}{5}BgkqhkiG9w0BBQ0w`, // encrypted PKCS#8 (PBES2)
];

// A body starts where no base64 character precedes it (a JSON "\n" counts as a line break) and
// runs through following lines of base64, separated by real or JSON-escaped line breaks.
const BODY_RE = new RegExp(
  `(?<=^|[^A-Za-z0-9+/]|\\\\[nr])(?:${STARTS.join('|')})${B64}*={0,2}(?:[ \\t]*(?:\\r?\\n|(?:\\\\r)?\\\\n)[ \\t]*${B64}{4,}={0,2}(?![A-Za-z0-9+/=]))*`,
  'g',
);

/** Why: a key printed without its BEGIN line is still the key. Reported as `private_key`. */
export const privateKeyBody: Detector = {
  kind: 'private_key',
  trigger: 'b3BlbnNzaC1rZXkt|IBAAKC|BgkqhkiG9w0B|GSM4|CAQEE|AgEBB|CAQAwBQYDK2V',
  run(text: string, hits: HitCounts): string {
    let n = 0;
    const out = text.replace(BODY_RE, () => {
      n++;
      return '[private_key]';
    });
    if (n > 0) hits.private_key = (hits.private_key ?? 0) + n;
    return n > 0 ? out : text;
  },
};
