/**
 * The canonical call an approval binds to: tool, connection and normalised arguments, as
 * canonical JSON (keys sorted), and its sha256. Why: an approval covers exactly one call, and a
 * changed argument (or the same text sent to another connection) is another call.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../recorder/index.js';

/** The bound call and its hash. */
export interface CanonicalCall {
  text: string;
  hash: string;
}

/** Canonicalise and hash one call. */
export function canonicalCall(tool: string, connection: string | null, args: Record<string, unknown>): CanonicalCall {
  const text = canonicalJson({ tool, connection, args });
  return { text, hash: createHash('sha256').update(text, 'utf8').digest('hex') };
}
