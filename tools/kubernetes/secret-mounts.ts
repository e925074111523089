/**
 * Where each container of a pod mounts a Secret: a `secret` volume, a `projected` volume with a
 * `secret` or `serviceAccountToken` source, or a Secrets Store CSI volume. Each key of such a
 * volume is a file whose content is the bare value, which output masking cannot see (no name
 * beside it), so kubectl_exec's facts carry these mountPaths and the shell condition refuses a
 * read under one unless the grant's paths: name it (shared/shell/secret-files.ts). Why from the
 * pod spec: the mountPath is the pod author's choice (`/etc/db-creds`), not a well-known place.
 * It is cleaned as the kubelet cleans it (`//etc//db-creds/./` is `/etc/db-creds`), or a read by
 * the clean name would not be seen under it. A raw block volume's `devicePath` (`volumeDevices`)
 * counts too: the device holds every file of its filesystem, secrets too, wherever the author put it.
 * Also which Secrets and ConfigMaps a pod mounts, whose values output is masked by (secret-env.ts).
 */
import { normalisePath } from '../shared/shell/paths.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Does this pod volume hold a Secret's values? */
function secretVolume(v: Record<string, unknown>): boolean {
  if (isObj(v.secret)) return true;
  if (isObj(v.csi) && typeof v.csi.driver === 'string' && /secrets-store/.test(v.csi.driver)) return true;
  if (!isObj(v.projected) || !Array.isArray(v.projected.sources)) return false;
  return v.projected.sources.some((s) => isObj(s) && (isObj(s.secret) || isObj(s.serviceAccountToken)));
}

/** Container -> the mountPaths of the Secret volumes it mounts (containers with none absent). */
export function secretMountsOf(spec: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isObj(spec) || !Array.isArray(spec.volumes)) return out;
  const secret = new Set(spec.volumes.flatMap((v) => (isObj(v) && typeof v.name === 'string' && secretVolume(v) ? [v.name] : [])));
  const clean = (p: unknown): string[] => (typeof p === 'string' && p.startsWith('/') ? [normalisePath(p) ?? p] : []);
  for (const k of LISTS) {
    const list = spec[k];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isObj(c) || typeof c.name !== 'string') continue;
      const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts.flatMap((m) => (isObj(m) && typeof m.name === 'string' && secret.has(m.name) ? clean(m.mountPath) : [])) : [];
      // A raw block volume holds every file of its filesystem, at whatever devicePath (device-places.ts).
      const devices = Array.isArray(c.volumeDevices) ? c.volumeDevices.flatMap((d) => (isObj(d) ? clean(d.devicePath) : [])) : [];
      const paths = [...mounts, ...devices];
      if (paths.length > 0) out[c.name] = [...(out[c.name] ?? []), ...paths];
    }
  }
  return out;
}

/** A Secret a pod mounts as files: its name, the keys mounted (null: every key), whether every mount of it is optional. */
export interface SecretVolumeRef {
  name: unknown;
  keys: (string | null)[] | null;
  optional: unknown;
}

/**
 * The Secrets a pod spec's volumes hold (a `secret` volume, a `projected` volume's `secret`
 * sources). Why: a program prints a mounted value as it prints a variable's, so kubectl_exec
 * and kubectl_logs mask those values too (secret-env.ts). A key that is not a string is null (every key).
 */
export function secretVolumeRefs(spec: unknown): SecretVolumeRef[] {
  if (!isObj(spec) || !Array.isArray(spec.volumes)) return [];
  const keysOf = (items: unknown) => (Array.isArray(items) && items.length > 0 ? items.map((i) => (isObj(i) && typeof i.key === 'string' ? i.key : null)) : null);
  return spec.volumes.flatMap((v) => {
    if (!isObj(v)) return [];
    if (isObj(v.secret)) return [{ name: v.secret.secretName, keys: keysOf(v.secret.items), optional: v.secret.optional }];
    if (!isObj(v.projected) || !Array.isArray(v.projected.sources)) return [];
    return v.projected.sources.flatMap((s) => (isObj(s) && isObj(s.secret) ? [{ name: s.secret.name, keys: keysOf(s.secret.items), optional: s.secret.optional }] : []));
  });
}

/** A ConfigMap a pod mounts as files: its name, the keys mounted (null: every key) with the file name each is mounted under, whether every mount of it is optional. */
export interface ConfigMapVolumeRef {
  name: unknown;
  keys: { key: string | null; path: string | null }[] | null;
  optional: unknown;
}

/**
 * The cluster CA every pod's service-account volume projects (`kube-root-ca.crt`, key `ca.crt`):
 * kube-controller-manager writes it and puts it back when changed, so it is the public CA
 * certificate, never a value kubectl_get masks. Why exempt: read, it would cost every exec and
 * log call a request (and `get` on ConfigMaps) for nothing.
 */
function clusterCa(cm: Record<string, unknown>): boolean {
  const items = cm.items;
  return cm.name === 'kube-root-ca.crt' && Array.isArray(items) && items.length === 1 && isObj(items[0]) && items[0].key === 'ca.crt';
}

/**
 * The ConfigMaps a pod spec's volumes hold (a `configMap` volume, a `projected` volume's
 * `configMap` sources). Why: a program prints a mounted value as it prints a variable's, so
 * kubectl_exec and kubectl_logs mask the values kubectl_get masks in them (secret-env.ts), as
 * they do a Secret volume's. A key that is not a string is null (every key).
 */
export function configMapVolumeRefs(spec: unknown): ConfigMapVolumeRef[] {
  if (!isObj(spec) || !Array.isArray(spec.volumes)) return [];
  const keysOf = (items: unknown) => (Array.isArray(items) && items.length > 0
    ? items.map((i) => ({ key: isObj(i) && typeof i.key === 'string' ? i.key : null, path: isObj(i) && typeof i.path === 'string' ? i.path : null }))
    : null);
  const ref = (cm: Record<string, unknown>): ConfigMapVolumeRef[] => (clusterCa(cm) ? [] : [{ name: cm.name, keys: keysOf(cm.items), optional: cm.optional }]);
  return spec.volumes.flatMap((v) => {
    if (!isObj(v)) return [];
    if (isObj(v.configMap)) return ref(v.configMap);
    if (!isObj(v.projected) || !Array.isArray(v.projected.sources)) return [];
    return v.projected.sources.flatMap((s) => (isObj(s) && isObj(s.configMap) ? ref(s.configMap) : []));
  });
}
