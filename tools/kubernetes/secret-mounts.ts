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
