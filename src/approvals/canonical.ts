/**
 * The canonical call an approval binds to: tool, connection and normalised arguments, as
 * canonical JSON (keys sorted), and its sha256. Why: an approval covers exactly one call, and a
 * changed argument (or the same text sent to another connection) is another call. The connection
 * is bound by its name and by a digest of its configured entry: a name pointed at another
 * database, host or cluster (a restart with an edited warden.yaml, a replica on the shared store
 * configured otherwise) is another connection; so is one whose secret reference (a URL in
 * `env:DATABASE_URL`) now resolves to another database or cluster (connectionDigest's `target`).
 * The masks the result gets are bound too (maskingDigest): an approval of a masked read is no
 * approval to read it in clear.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../recorder/index.js';
import type { ConnectionConfig } from '../tool-api.js';
import type { CompiledPolicy } from '../policy/types.js';

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

const MASKING_DIGESTS = new WeakMap<CompiledPolicy['masking'], string>();

/**
 * The digest of the masks a policy gives every result (column masks and their strategies, content
 * detectors, custom patterns, on_derived), once per compiled policy. Why bound with the call: a
 * reviewer approves a call whose result is masked as the policy stood then; a reload (or a replica
 * of the shared store) that removes or loosens a mask must not let that approval return the value
 * in clear. Any change counts (fail closed): the call asks again under the masks it now gets.
 */
export function maskingDigest(masking: CompiledPolicy['masking']): string {
  let d = MASKING_DIGESTS.get(masking);
  if (d === undefined) {
    // In a fixed order: the same masks listed in another order (or another file) are the same masks.
    const by = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
    const sorted = {
      columns: [...masking.columns].sort(by((c) => c.column)),
      detectors: [...masking.detectors].sort(),
      custom: [...masking.custom].sort(by((c) => `${c.name}\u0000${c.pattern}`)),
      onDerived: masking.onDerived,
    };
    MASKING_DIGESTS.set(masking, (d = `sha256:${sha256(canonicalJson(sorted))}`));
  }
  return d;
}

/**
 * Canonicalise and hash one call; `connectionConfig` is connectionDigest of the connection it runs
 * on, `masking` maskingDigest of the masks its result gets (absent: bound to neither).
 */
export function canonicalCall(tool: string, connection: string | null, args: Record<string, unknown>, connectionConfig: string | null = null, masking: string | null = null): CanonicalCall {
  const text = canonicalJson({ tool, connection, args, ...(connectionConfig ? { connection_config: connectionConfig } : {}), ...(masking ? { masking } : {}) });
  return { text, hash: sha256(text) };
}
