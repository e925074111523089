/**
 * The storage behind a claim: the PersistentVolume bound to it (its `spec.claimRef`) and that
 * volume's source, as a storage identity (storage-identity.ts). Why: two claims of other names,
 * or of other namespaces, may be bound to two PersistentVolumes that are the same storage (the
 * same NFS share, host directory, CSI volume handle, iSCSI target), and a pod may mount inline
 * what another pod's PersistentVolume names; judged by claim name alone, neither is seen.
 *
 * Read with one list of every PersistentVolume (cluster-scoped), once per call and only when a
 * claim is involved (shared-volumes.ts); nothing is kept between calls, since a volume is bound
 * and released at any time. A volume whose claimRef names a claim counts for that claim whatever
 * its phase (Bound, or Released while the claim is gone: fail closed). A claim bound to no
 * volume Warden read keeps its name as its only identity (another pod of its namespace naming
 * it is the same storage). Warden's service account needs `list` on `persistentvolumes` (a
 * ClusterRole: apiGroups [""], resources [persistentvolumes], verbs [list]).
 */
import type { KubeConnector } from './connector.js';
import { isObj } from './objects.js';
import { storageOf, type StorageId } from './storage-identity.js';
import type { SharedMount } from './volume-reach.js';

/** Fields of a PersistentVolume's spec that are objects but not its volume source. */
const NOT_SOURCE = new Set(['capacity', 'claimRef', 'nodeAffinity']);

/** One storage a PersistentVolume's source names. */
export interface PvSource extends StorageId {
  /** The source's kind (nfs, csi, local, ...). */
  kind: string;
  /** The source says readOnly (a volume mounted read-only from every pod). */
  readOnly: boolean;
}

/** A PersistentVolume as judging needs it. */
export interface PvInfo {
  /** The claim its claimRef binds (`namespace/name`), or null. */
  claim: string | null;
  /** Its volume sources (one in a valid object; every one counts). */
  sources: PvSource[];
}

/** Claim `namespace/name` -> the storage of the PersistentVolumes bound to it. */
export type ClaimStorage = Map<string, PvSource[]>;

/** Read a PersistentVolume object. */
export function pvInfoOf(raw: unknown): PvInfo {
  const spec = isObj(raw) && isObj(raw.spec) ? raw.spec : {};
  const ref = isObj(spec.claimRef) ? spec.claimRef : null;
  const claim = ref && typeof ref.name === 'string' ? `${typeof ref.namespace === 'string' ? ref.namespace : ''}/${ref.name}` : null;
  const sources: PvSource[] = [];
  for (const [kind, src] of Object.entries(spec)) {
    if (NOT_SOURCE.has(kind) || !isObj(src)) continue;
    sources.push({ kind, ...storageOf(kind, src), readOnly: src.readOnly === true });
  }
  return { claim, sources };
}

/** Index PersistentVolumes (read by pvInfoOf) by the claim each is bound to. */
export function claimStorageOf(pvs: Iterable<PvInfo>): ClaimStorage {
  const out: ClaimStorage = new Map();
  for (const pv of pvs) {
    if (pv.claim === null) continue;
    out.set(pv.claim, [...(out.get(pv.claim) ?? []), ...pv.sources]);
  }
  return out;
}

/** One list of every PersistentVolume, indexed by claim (errors are the connector's: kubeError). */
export async function readClaimStorage(c: KubeConnector, signal?: AbortSignal): Promise<ClaimStorage> {
  const pvs = await c.listAll('/api/v1', 'persistentvolumes', null, pvInfoOf, signal);
  return claimStorageOf(pvs.values());
}

/**
 * The mounts with, beside each claim mount, one mount per storage its bound volumes name: same
 * volume name and kind (refusals name the pod's volume, never a PersistentVolume), read-only
 * when the mount or the volume's source is, and reaching pods of every namespace (any pod may
 * mount that storage inline, or through its own claim and volume).
 */
export function withClaimStorage(mounts: SharedMount[], storage: ClaimStorage): SharedMount[] {
  if (!mounts.some((m) => m.claim !== null && storage.has(m.claim))) return mounts;
  return mounts.flatMap((m) => [
    m,
    ...(m.claim !== null ? (storage.get(m.claim) ?? []) : []).map((s): SharedMount => ({
      volume: m.volume, kind: m.kind, key: s.key, path: s.path, handle: s.handle, ...(s.host !== undefined ? { host: s.host } : {}), readOnly: m.readOnly || s.readOnly, clusterWide: true, claim: null,
    })),
  ]);
}
