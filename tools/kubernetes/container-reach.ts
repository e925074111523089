/**
 * What a container of a pod reaches besides itself. Why: an ephemeral container started with
 * a target (`kubectl debug --target=X`) joins X's process namespace, so a command in it reads
 * X's processes (their environment with `ps eww`, their files under /proc/PID/root), and its
 * log is what was done there. The namespace is shared both ways: an exec into X sees the debug
 * container's processes (and those of every other one targeting X) the same way. In a pod with
 * `spec.shareProcessNamespace: true` every container sees every other's processes. A volume two
 * containers mount carries what one writes (or is given: a secret, a token) to the other: a
 * vault-agent sidecar renders secrets into an emptyDir the app mounts, and `cat
 * /vault/secrets/db` in the app reads them. Any volume both mount (or use as a raw block
 * device, `volumeDevices`: the other's filesystem read from the device) counts, whatever its kind,
 * `subPath` or `readOnly` (fail closed; a read-only mount still reads). A `containers:` rule
 * judges exec (and logs of an ephemeral container: the target only, a log is neither a process
 * namespace nor a volume) as reaching those containers too, as kubectl_get withholds an
 * ephemeral container unless it shows every container whose processes it shares
 * (sharesProcessesWith, container-scope.ts). Volumes other pods can mount too (a hostPath, a
 * claim, a network volume) are judged against those pods just before an exec (shared-volumes.ts).
 */
import { isObj } from './objects.js';

const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** The container facts of a pod spec that reach decisions need. */
export interface ContainerReach {
  /** Every container name: containers, initContainers, ephemeralContainers (all exec and log targets). */
  all: string[];
  /** Ephemeral container -> the container whose process namespace it joined. */
  targets: Record<string, string>;
  /** spec.shareProcessNamespace. */
  sharedPids: boolean;
  /** Container -> the volume names its volumeMounts and volumeDevices name (any list). */
  mounts: Record<string, string[]>;
}

/** Read the reach facts of a pod spec (anything not a spec: no containers). */
export function reachOf(spec: unknown): ContainerReach {
  const out: ContainerReach = { all: [], targets: {}, sharedPids: false, mounts: {} };
  if (!isObj(spec)) return out;
  for (const k of LISTS) {
    const list = spec[k];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isObj(c) || typeof c.name !== 'string') continue;
      out.all.push(c.name);
      if (k === 'ephemeralContainers' && typeof c.targetContainerName === 'string') out.targets[c.name] = c.targetContainerName;
      // A volume used as a raw block device (volumeDevices) is the same storage as one mounted.
      const vols = [c.volumeMounts, c.volumeDevices].flatMap((l) => (Array.isArray(l) ? l.flatMap((m) => (isObj(m) && typeof m.name === 'string' ? [m.name] : [])) : []));
      // A name in two lists (invalid, but fail closed): the union of its mounts.
      out.mounts[c.name] = [...(out.mounts[c.name] ?? []), ...vols];
    }
  }
  out.sharedPids = spec.shareProcessNamespace === true;
  return out;
}

/**
 * The other containers a call on `container` reaches (sorted), or null when `container` is not
 * one of the pod's (its reach is unknown: fail closed). `exec` reaches every container in its
 * process namespace (its target, whatever targets it, whatever targets the same), under
 * shareProcessNamespace every container, and every container that mounts a volume it mounts;
 * `logs` the target only.
 */
export function reachedBesides(r: ContainerReach, container: string, action: 'exec' | 'logs'): string[] | null {
  if (!r.all.includes(container)) return null;
  const out = new Set<string>();
  const target = r.targets[container];
  if (target !== undefined) out.add(target);
  if (action === 'exec') for (const c of processNamespace(r, container)) out.add(c);
  if (action === 'exec' && r.sharedPids) for (const c of r.all) out.add(c);
  if (action === 'exec') {
    const mine = new Set(r.mounts[container] ?? []);
    for (const [c, vols] of Object.entries(r.mounts)) if (vols.some((v) => mine.has(v))) out.add(c);
  }
  out.delete(container);
  return [...out].sort();
}

/**
 * The other containers whose processes `container` shares (sorted): its process namespace
 * through targets (processNamespace), every container under shareProcessNamespace. Why
 * exported: kubectl_get shows an ephemeral container only when it shows all of these
 * (container-scope.ts), as kubectl_exec into it is judged as reaching them.
 */
export function sharesProcessesWith(r: ContainerReach, container: string): string[] {
  const out = r.sharedPids ? new Set(r.all) : processNamespace(r, container);
  out.delete(container);
  return [...out].sort();
}

/**
 * The containers whose processes `container`'s process namespace holds through targets,
 * itself included: followed both ways and transitively, so two debug containers targeting app
 * see each other, and a target chain (one ephemeral container targeting another: fail closed)
 * is one namespace.
 */
function processNamespace(r: ContainerReach, container: string): Set<string> {
  const group = new Set([container]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [e, t] of Object.entries(r.targets)) {
      if (group.has(e) === group.has(t)) continue;
      group.add(e).add(t);
      grew = true;
    }
  }
  return group;
}
