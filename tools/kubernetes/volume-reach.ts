/**
 * The volumes of a pod that other pods can mount too: what an exec reaches outside its pod.
 * Why: a `hostPath` is a directory of the node, a claim (or a claim a generic `ephemeral:`
 * volume creates, `POD-VOLUME`) is storage any pod of the namespace may name, and an inline
 * network volume (nfs, cephfs, iscsi, csi, ...) is storage any pod of the cluster may name. A
 * command writing there is read by every other pod mounting it, and reads what they write.
 * Pod-local kinds (emptyDir, configMap, secret, projected, downwardAPI, image, gitRepo) are
 * not shared: a configMap or secret is a read-only copy of an API object kubectl_get judges.
 * Any other kind (one Warden does not know included) counts. Inline sources are matched by
 * their storage identity (storage-identity.ts), a claim by its name until claim-storage.ts
 * adds the storage of the PersistentVolume bound to it. Fail closed: `subPath` is ignored (the
 * mount reaches the whole volume for matching), and a hostPath matches on any node
 * (shared-volumes.ts says why).
 */
import { isObj, type Obj } from './objects.js';
import { sameStorage, storageOf, type StorageId } from './storage-identity.js';

/** Volume kinds whose storage only the pod itself mounts. */
const POD_LOCAL = new Set(['emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'image', 'gitRepo']);

/** One mount of a volume other pods may mount too; key, path and handle name its storage (storage-identity.ts). */
export interface SharedMount extends StorageId {
  /** The volume's name in its pod (said in refusals). */
  volume: string;
  /** Its kind as the pod spec names it (hostPath, persistentVolumeClaim, nfs, ...). */
  kind: string;
  /** The mount or the source is read-only. */
  readOnly: boolean;
  /** Pods of other namespaces may mount it too (everything but a claim not known to be bound). */
  clusterWide: boolean;
  /** A claim (`namespace/name`) the volume names, whose PersistentVolume may be more storage (claim-storage.ts); else null. */
  claim: string | null;
}

/** Do two mounts reach the same storage, with at least one of them writing? */
export function overlaps(a: SharedMount, b: SharedMount): boolean {
  return !(a.readOnly && b.readOnly) && sameStorage(a, b);
}

/** The shareable source of one volume of pod `namespace/pod`, or null when it is pod-local. */
function sourceOf(v: Obj, namespace: string, pod: string): Omit<SharedMount, 'readOnly'> & { sourceReadOnly: boolean } | null {
  const name = v.name as string;
  const kind = Object.keys(v).find((k) => k !== 'name' && isObj(v[k]));
  // A volume without a source is an emptyDir to the API server.
  if (kind === undefined || POD_LOCAL.has(kind)) return null;
  const src = v[kind] as Obj;
  const sourceReadOnly = src.readOnly === true;
  // A generic ephemeral volume's claim is named POD-VOLUME, and another pod may name that claim.
  const claim = kind === 'persistentVolumeClaim' ? `${namespace}/${String(src.claimName)}` : kind === 'ephemeral' ? `${namespace}/${pod}-${name}` : null;
  if (claim !== null) return { volume: name, kind, key: `claim:${claim}`, path: null, handle: null, sourceReadOnly, clusterWide: false, claim };
  return { volume: name, kind, ...storageOf(kind, src), sourceReadOnly, clusterWide: true, claim: null };
}

/**
 * Container -> its mounts of volumes other pods may mount too, for a pod object (any list:
 * containers, initContainers, ephemeralContainers; volumeMounts and volumeDevices, whose
 * readOnly is the source's only). A mount naming no volume of the pod is left
 * out (the API server refuses such a pod).
 */
export function sharedMountsOf(raw: unknown): Record<string, SharedMount[]> {
  const out: Record<string, SharedMount[]> = {};
  if (!isObj(raw) || !isObj(raw.spec)) return out;
  const meta = isObj(raw.metadata) ? raw.metadata : {};
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  const pod = typeof meta.name === 'string' ? meta.name : '';
  const sources = new Map<string, NonNullable<ReturnType<typeof sourceOf>>>();
  for (const v of Array.isArray(raw.spec.volumes) ? raw.spec.volumes : []) {
    if (!isObj(v) || typeof v.name !== 'string') continue;
    const s = sourceOf(v, ns, pod);
    if (s) sources.set(v.name, s);
  }
  if (sources.size === 0) return out;
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = raw.spec[k];
    for (const c of Array.isArray(list) ? list : []) {
      if (!isObj(c) || typeof c.name !== 'string') continue;
      // A raw block device (volumeDevices, a Block-mode claim) is the same storage as a mount of it.
      for (const m of [c.volumeMounts, c.volumeDevices].flatMap((l) => (Array.isArray(l) ? l : []))) {
        const s = isObj(m) && typeof m.name === 'string' ? sources.get(m.name) : undefined;
        if (!s) continue;
        const { sourceReadOnly, ...rest } = s;
        (out[c.name] ??= []).push({ ...rest, readOnly: sourceReadOnly || (isObj(m) && m.readOnly === true) });
      }
    }
  }
  return out;
}
