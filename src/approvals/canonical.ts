/**
 * The canonical call an approval binds to: tool, connection and normalised arguments, as
 * canonical JSON (keys sorted), and its sha256. Why: an approval covers exactly one call, and a
 * changed argument (or the same text sent to another connection) is another call. The connection
 * is bound by its name and by a digest of its configured entry: a name pointed at another
 * database, host or cluster (a restart with an edited warden.yaml, a replica on the shared store
 * configured otherwise) is another connection; so is one whose secret reference (a URL in
 * `env:DATABASE_URL`) now resolves to another database or cluster (connectionDigest's `target`).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../recorder/index.js';
import type { ConnectionConfig } from '../tool-api.js';

/** The bound call and its hash. */
export interface CanonicalCall {
  text: string;
  hash: string;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The digest of a connection's configured entry (warden.yaml holds secret references, never
 * secret values, so this reveals nothing); null for a tool without a connection. Every field
 * counts: changing a connection's settings also asks its open approvals anew (fail closed).
 * `target` is the tool's connectionTarget (tool-api.ts): where the entry's secret reference
 * resolves, so a DATABASE_URL repointed under the same entry is another connection too.
 */
export function connectionDigest(conn: ConnectionConfig | null, target: string | null = null): string | null {
  if (!conn) return null;
  return `sha256:${sha256(canonicalJson(target === null ? conn : { config: conn, target }))}`;
}

/** Canonicalise and hash one call; `connectionConfig` is connectionDigest of the connection it runs on. */
export function canonicalCall(tool: string, connection: string | null, args: Record<string, unknown>, connectionConfig: string | null = null): CanonicalCall {
  const text = canonicalJson({ tool, connection, args, ...(connectionConfig ? { connection_config: connectionConfig } : {}) });
  return { text, hash: sha256(text) };
}
