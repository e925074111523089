/**
 * The volumes of a pod that other pods can mount too: what an exec reaches outside its pod.
 * Why: a `hostPath` is a directory of the node, a claim (or a claim a generic `ephemeral:`
 * volume creates, `POD-VOLUME`) is storage any pod of the namespace may name, and an inline
 * network volume (nfs, cephfs, iscsi, csi, ...) is storage any pod of the cluster may name. A
 * command writing there is read by every other pod mounting it, and reads what they write.
 * Pod-local kinds (emptyDir, configMap, secret, projected, downwardAPI, image, gitRepo) are
 * not shared: a configMap or secret is a read-only copy of an API object kubectl_get judges.
 * Any other kind (one Warden does not know included) counts, matched by its whole source.
 * Fail closed: `subPath` is ignored (the mount reaches the whole volume for matching), and a
 * hostPath matches on any node (shared-volumes.ts says why).
 */
import { isObj, type Obj } from './objects.js';

/** Volume kinds whose storage only the pod itself mounts. */
const POD_LOCAL = new Set(['emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'image', 'gitRepo']);
/** Volume kinds matched by a path (prefixes overlap), the rest of the source naming the storage. */
const BY_PATH = new Set(['hostPath', 'nfs', 'cephfs']);

/** One mount of a volume other pods may mount too. */
export interface SharedMount {
  /** The volume's name in its pod (said in refusals). */
  volume: string;
  /** Its kind as the pod spec names it (hostPath, persistentVolumeClaim, nfs, ...). */
  kind: string;
  /** The storage, path aside: equal keys name the same storage. */
  key: string;
  /** hostPath, nfs and cephfs: the normalised path; null: the whole storage. */
  path: string | null;
  /** The mount or the source is read-only. */
  readOnly: boolean;
  /** Pods of other namespaces may mount it too (everything but a claim). */
  clusterWide: boolean;
}

/** `/a//b/./c/` -> `/a/b/c`; `..` steps up (a path only names where it ends). */
export function normalisePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Does one path lie in the other (or are they the same)? */
function pathsOverlap(a: string, b: string): boolean {
  const inside = (x: string, y: string) => x === y || y === '/' || x.startsWith(`${y}/`);
  return inside(a, b) || inside(b, a);
}

/** Do two mounts reach the same storage, with at least one of them writing? */
export function overlaps(a: SharedMount, b: SharedMount): boolean {
  if (a.key !== b.key || (a.readOnly && b.readOnly)) return false;
  return a.path === null || b.path === null || pathsOverlap(a.path, b.path);
}

/** JSON with sorted keys and `readOnly` dropped (a read-only mount of the same storage is the same storage). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (!isObj(v)) return JSON.stringify(v) ?? 'null';
  const keys = Object.keys(v).filter((k) => k !== 'readOnly').sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/** The shareable source of one volume of pod `namespace/pod`, or null when it is pod-local. */
function sourceOf(v: Obj, namespace: string, pod: string): Omit<SharedMount, 'readOnly'> & { sourceReadOnly: boolean } | null {
  const name = v.name as string;
  const kind = Object.keys(v).find((k) => k !== 'name' && isObj(v[k]));
  // A volume without a source is an emptyDir to the API server.
  if (kind === undefined || POD_LOCAL.has(kind)) return null;
  const src = v[kind] as Obj;
  const sourceReadOnly = src.readOnly === true;
  if (kind === 'persistentVolumeClaim') return { volume: name, kind, key: `claim:${namespace}/${String(src.claimName)}`, path: null, sourceReadOnly, clusterWide: false };
  // A generic ephemeral volume's claim is named POD-VOLUME, and another pod may name that claim.
  if (kind === 'ephemeral') return { volume: name, kind, key: `claim:${namespace}/${pod}-${name}`, path: null, sourceReadOnly, clusterWide: false };
  if (BY_PATH.has(kind)) {
    // The node's filesystem, an NFS server, a Ceph cluster (by its monitors): the path within it.
    const where = kind === 'nfs' ? canonical(src.server) : kind === 'cephfs' ? canonical(Array.isArray(src.monitors) ? [...src.monitors].map(String).sort() : src.monitors) : '';
    return { volume: name, kind, key: `${kind}:${where}`, path: normalisePath(typeof src.path === 'string' ? src.path : '/'), sourceReadOnly, clusterWide: true };
  }
  return { volume: name, kind, key: `${kind}:${canonical(src)}`, path: null, sourceReadOnly, clusterWide: true };
}

/**
 * Container -> its mounts of volumes other pods may mount too, for a pod object (any list:
 * containers, initContainers, ephemeralContainers). A mount naming no volume of the pod is left
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
      if (!isObj(c) || typeof c.name !== 'string' || !Array.isArray(c.volumeMounts)) continue;
      for (const m of c.volumeMounts) {
        const s = isObj(m) && typeof m.name === 'string' ? sources.get(m.name) : undefined;
        if (!s) continue;
        const { sourceReadOnly, ...rest } = s;
        (out[c.name] ??= []).push({ ...rest, readOnly: sourceReadOnly || (isObj(m) && m.readOnly === true) });
      }
    }
  }
  return out;
}
