/**
 * Where a volume source's data lives, for an inline volume of a pod spec and a
 * PersistentVolume's source alike (the API server gives both the same field names), so that
 * two volumes are judged one storage whichever way each pod names it. Why a storage identity
 * and not the source: `nfs: {server: nas, path: /e}` inline and a PV with the same `nfs:` are
 * one share; `local:` (a PV only) is a directory of a node, as `hostPath:` is; a CSI PV's
 * volume is its driver and `volumeHandle`, whatever its attributes.
 *
 * Fail closed, by choosing identities that match too much rather than too little:
 * - a host directory (`hostPath`, `local`) matches on any node (shared-volumes.ts says why);
 * - an NFS share is its path on its server, and two server names are one server unless both are
 *   host names whose first labels differ (`nas` is `nas.example.com.` and `NAS`; an IP address
 *   may be any name's); a CephFS path matches on any monitors (one cluster is reached through
 *   any set of its monitors, by address or by name), so two CephFS clusters with overlapping
 *   paths are judged one storage;
 * - an inline `csi:` volume names no handle (the driver alone decides what its attributes
 *   mean), so it matches every volume of its driver;
 * - `iscsi` is its target (IQN) and LUN through any portal, `rbd` its pool and image on any
 *   monitors, `fc` its WWIDs or target WWNs and LUN, `glusterfs` its volume on any endpoints;
 * - cloud disks and shares by their one id (`volumeID`, `pdName`, `diskURI`, `shareName`, ...),
 *   whatever partition, file system or account secret;
 * - any other kind (one Warden does not know) by its whole source, `readOnly` aside.
 */
import { isIP } from 'node:net';
import { isObj, type Obj } from './objects.js';

/** The storage a volume source names: equal keys (and handles) name the same storage. */
export interface StorageId {
  /** The storage system, path and handle aside (`nfs:"nas"`, `host:`, `csi:ebs.csi.aws.com`). */
  key: string;
  /** A path within it (hostPath, local, nfs, cephfs), normalised; null: the whole storage. */
  path: string | null;
  /** A volume within it (a CSI volumeHandle); null: any of its volumes. */
  handle: string | null;
  /** An NFS server as written, normalised (sameHost decides); absent: not NFS. */
  host?: string;
}

/** Kinds named by one id field, whatever the rest of their source says. */
const BY_ID: Record<string, string> = {
  awsElasticBlockStore: 'volumeID',
  gcePersistentDisk: 'pdName',
  azureDisk: 'diskURI',
  azureFile: 'shareName',
  cinder: 'volumeID',
  vsphereVolume: 'volumePath',
  portworxVolume: 'volumeID',
  photonPersistentDisk: 'pdID',
};

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

/** JSON with sorted keys and `readOnly` dropped (a read-only mount of the same storage is the same storage). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (!isObj(v)) return JSON.stringify(v) ?? 'null';
  const keys = Object.keys(v).filter((k) => k !== 'readOnly').sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : canonical(v));
const sorted = (v: unknown): string => (Array.isArray(v) ? [...v].map(str).sort().join(',') : str(v));
const pathOf = (v: unknown): string => normalisePath(typeof v === 'string' ? v : '/');

/** The storage of one volume source of kind `kind` (a pod's inline volume or a PersistentVolume's). */
export function storageOf(kind: string, src: Obj): StorageId {
  const whole = (key: string): StorageId => ({ key, path: null, handle: null });
  switch (kind) {
    case 'hostPath':
    case 'local':
      return { key: 'host:', path: pathOf(src.path), handle: null };
    case 'nfs':
      return { key: 'nfs:', path: pathOf(src.path), handle: null, host: typeof src.server === 'string' ? src.server.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '') : '' };
    case 'cephfs':
      return { key: 'cephfs:', path: pathOf(src.path), handle: null };
    case 'csi':
      return { key: `csi:${str(src.driver)}`, path: null, handle: typeof src.volumeHandle === 'string' ? src.volumeHandle : null };
    case 'iscsi':
      return whole(`iscsi:${str(src.iqn)}#${str(src.lun)}`);
    case 'rbd':
      return whole(`rbd:${typeof src.pool === 'string' && src.pool !== '' ? src.pool : 'rbd'}/${str(src.image)}`);
    case 'fc':
      return whole(Array.isArray(src.wwids) && src.wwids.length ? `fc:wwid:${sorted(src.wwids)}` : `fc:${sorted(src.targetWWNs)}#${str(src.lun)}`);
    case 'glusterfs':
      return whole(`glusterfs:${str(src.path)}`);
  }
  const id = BY_ID[kind];
  if (id !== undefined && typeof src[id] === 'string') return whole(`${kind}:${src[id]}`);
  return whole(`${kind}:${canonical(src)}`);
}

/** Does one path lie in the other (or are they the same)? */
function pathsOverlap(a: string, b: string): boolean {
  const inside = (x: string, y: string) => x === y || y === '/' || x.startsWith(`${y}/`);
  return inside(a, b) || inside(b, a);
}

/**
 * Can two NFS server names (normalised by storageOf) be one server? Yes unless both are host
 * names with different first labels: a short name and a full one (`nas`, `nas.example.com`) may
 * be one host, an address may be any name's, and an empty or odd value says nothing. Not seen: a
 * second name of another first label (a DNS alias), which Warden cannot resolve as a node would.
 */
export function sameHost(a: string, b: string): boolean {
  if (a === b || a === '' || b === '' || isIP(a) !== 0 || isIP(b) !== 0) return true;
  return a.split('.')[0] === b.split('.')[0];
}

/** Do two identities name (part of) the same storage? */
export function sameStorage(a: StorageId, b: StorageId): boolean {
  if (a.key !== b.key) return false;
  if (a.host !== undefined && b.host !== undefined && !sameHost(a.host, b.host)) return false;
  if (a.handle !== null && b.handle !== null && a.handle !== b.handle) return false;
  return a.path === null || b.path === null || pathsOverlap(a.path, b.path);
}
