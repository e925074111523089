/**
 * Host key pinning. A pin is either a public key line as in known_hosts ("ssh-ed25519 AAAA...")
 * or an OpenSSH SHA256 fingerprint ("SHA256:base64"). Either way, a presented key matches only
 * when its SHA256 fingerprint equals the pin's.
 */
import { createHash } from 'node:crypto';

/**
 * Accepted spellings of `host_key`. Why strict: a typo must fail at load, not at connect. Only
 * key types ssh2 can verify a host with: an `sk-*` (security key) pin would be accepted here and
 * then fail every connection with a misleading error.
 */
export const HOST_KEY_PIN =
  /^(?:(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}(?: [^\n]*)?|SHA256:[A-Za-z0-9+/]{43}=?)$/;

/** A compiled pin. */
export interface HostKeyPin {
  /** SHA256:... fingerprint the host must present. */
  fingerprint: string;
  /** Key algorithm when the pin is a full key (used to ask the host for that key type). */
  keyType: string | null;
}

/** OpenSSH-style fingerprint of a raw key blob. Why: it is what admins compare with ssh-keygen -l. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Compile a `host_key` value (already validated by the schema). */
export function compilePin(pin: string): HostKeyPin {
  const text = pin.trim();
  if (text.startsWith('SHA256:')) return { fingerprint: text.replace(/=+$/, ''), keyType: null };
  const [type, b64] = text.split(/\s+/);
  const blob = Buffer.from(b64 ?? '', 'base64');
  // The blob starts with its own type name; a pin whose two halves disagree is refused.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const inner = blob.subarray(4, 4 + len).toString('latin1');
  if (inner !== type) throw new Error(`host_key: the key data is not a ${type ?? '?'} key`);
  return { fingerprint: fingerprint(blob), keyType: type ?? null };
}

/**
 * Host key signature algorithms offered, as OpenSSH >= 8.8 does: never `ssh-rsa` (an RSA key's
 * SHA-1 signature) nor DSA (a `ssh-dss` pin is refused at load). Why a list for a pinned key
 * type: a host with several keys must present the pinned one.
 */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256',
] as const;

/** Host key algorithms to offer for a pinned key type (every safe one for a fingerprint pin). */
export function hostKeyAlgorithms(keyType: string | null): string[] {
  if (keyType === null) return [...HOST_KEY_ALGORITHMS];
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256'];
  return [keyType];
}
