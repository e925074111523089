/**
 * Bytes as the text they hold. A byte array (PostgreSQL bytea parsed by the driver into a Buffer)
 * or bytea's own text form (`\x616c...`, what `bytea::text` returns) hides text from every
 * detector while any reader can decode it; the scanner reads the bytes as UTF-8, and what it
 * masks goes back out in bytea's hex text form.
 */

const BYTEA_HEX = /^\\x(?:[0-9A-Fa-f]{2})+$/;

/** The text of a byte array or ArrayBuffer, read as UTF-8. Why: detectors read text, not bytes. */
export function bytesText(v: ArrayBufferView | ArrayBuffer): string {
  const buf = ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v);
  return buf.toString('utf8');
}

/** The bytes of bytea hex text (`\x...`) as UTF-8 text, or null when `s` is not that form; why: `bytea::text` hides text as hex. */
export function byteaHexText(s: string): string | null {
  if (s.length < 4 || s.charCodeAt(0) !== 92 || s.charCodeAt(1) !== 120 || !BYTEA_HEX.test(s)) return null;
  return Buffer.from(s.slice(2), 'hex').toString('utf8');
}

/** Text as bytea hex text; why: a masked byte value keeps the form the database gives bytes. */
export function toByteaHex(text: string): string {
  return `\\x${Buffer.from(text, 'utf8').toString('hex')}`;
}
