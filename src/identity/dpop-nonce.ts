/**
 * DPoP server nonces (RFC 9449 sections 8 and 9), stateless: time is cut into windows of
 * identity.oidc.dpop.nonce_lifetime, and the nonce of window `i` is `w.<i>.<mac>`, the mac being
 * HMAC-SHA256(key, i) cut to 128 bits, base64url. A nonce is taken in its window and the next, so
 * a proof made with one is good for at most two windows on any process holding the key: what lets
 * replicas that do not share a replay cache bound a captured proof's life. The two nonces taken
 * are computed once per window and compared in constant time: a request costs no HMAC.
 * The key is never logged nor said in an error.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The least length of a configured nonce_key (a random key is 32 bytes). */
export const MIN_NONCE_KEY_CHARS = 32;

/** The longest `nonce` claim read; a nonce Warden issues is about 40 characters. */
const MAX_NONCE_CHARS = 256;

/** RFC 9449's NQCHAR: visible ASCII without `"` and `\`. */
const NQCHARS = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The nonces of one key and window length. */
export interface NonceIssuer {
  /** The nonce of the window `nowMs` falls in (what a DPoP-Nonce header carries). */
  current(nowMs: number): string;
  /** Whether `nonce` is the current window's or the previous one's. */
  accepts(nonce: string, nowMs: number): boolean;
}

/** The nonce of window `index` under `key`. */
export function nonceFor(key: Uint8Array | string, index: number): string {
  return `w.${index}.${createHmac('sha256', key).update(`warden-dpop-nonce.${index}`).digest().subarray(0, 16).toString('base64url')}`;
}

/** Nonces under `key` (default: a random one, this process's own) for windows of `lifetimeMs`. */
export function createNonceIssuer(lifetimeMs: number, key: Uint8Array | string = randomBytes(32)): NonceIssuer {
  let index = NaN;
  let text = '';
  let cur = Buffer.alloc(0);
  let prev = Buffer.alloc(0);
  const at = (nowMs: number): void => {
    const i = Math.floor(nowMs / lifetimeMs);
    if (i === index) return;
    prev = i === index + 1 ? cur : Buffer.from(nonceFor(key, i - 1));
    text = nonceFor(key, i);
    cur = Buffer.from(text);
    index = i;
  };
  const same = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
  return {
    current(nowMs) {
      at(nowMs);
      return text;
    },
    accepts(nonce, nowMs) {
      at(nowMs);
      const n = Buffer.from(nonce);
      const isCur = same(n, cur);
      const isPrev = same(n, prev);
      return isCur || isPrev;
    },
  };
}

/** What is wrong with a proof's `nonce` claim as a value (a proof error), or null when it is a string a nonce could be. */
export function nonceClaimProblem(nonce: unknown): string | null {
  if (typeof nonce !== 'string') return "the DPoP proof's nonce is not a string";
  if (nonce.length === 0 || nonce.length > MAX_NONCE_CHARS || !NQCHARS.test(nonce)) return `the DPoP proof's nonce is malformed (1 to ${MAX_NONCE_CHARS} visible ASCII characters, no quote or backslash)`;
  return null;
}
