/**
 * Containers that reach their node, and through it every pod on that node. Why: a pod with
 * `hostPID: true` shares the node's process namespace (`/proc/PID/environ` is another pod's
 * environment, `/proc/PID/root` its files, Secret volumes and service-account token included);
 * one with `hostIPC: true` its IPC namespace and /dev/shm (containerd and CRI-O mount the node's),
 * the shared memory of the node's processes and of every other hostIPC pod;
 * a privileged container, or one given a capability that escapes the container (SYS_ADMIN,
 * SYS_MODULE, SYS_RAWIO, DAC_READ_SEARCH, BPF, PERFMON, ALL), can read the node's disks, memory
 * or files, or other processes' memory; so can a Windows hostProcess container (`securityContext.windowsOptions.hostProcess:
 * true` on the pod or the container, with `hostNetwork: true`), a process on its node with the
 * node's files, network and the user it is given (SYSTEM, often); and a hostPath at, above or
 * inside a directory where the node keeps its pods' data (the kubelet's pod volumes and
 * credentials, the pods' logs, the container runtime's state and socket (containerd, CRI-O,
 * Docker, cri-dockerd, the kubelet's old dockershim), the host's /proc, the
 * node's Kubernetes config and etcd) reads them. Every container of a pod with
 * `hostNetwork: true` is on the node's network, its loopback and node-local ports included:
 * the kubelet's read-only port 10255 (`/pods` returns every pod spec on the node, literal env
 * values included), the kubelet API on 10250 where anonymous auth is on, and daemons bound to
 * 127.0.0.1 (etcd on a control-plane node, node-exporter, the container runtime's metrics).
 * Whether those listen is not known from the pod, so any such container reaches its node (fail
 * closed); one that keeps NET_RAW (runtimes grant it by default) or is given NET_ADMIN or
 * NET_RAW also captures the node's traffic, other pods' plaintext included. A claim bound to a
 * `hostPath` or `local` PersistentVolume over one of the node directories above reads them too
 * (assertClaimNodeReachWithinGrant, judged where the PersistentVolumes are read for shared
 * storage: shared-volumes.ts).
 * kubectl_exec into such a container is judged, through ExecContext.judge, as this same exec
 * into pods of every namespace and of unknown labels (no container named): a grant narrowed by
 * namespaces, pod_labels or containers refuses it, so does a deny naming any of them, and a
 * grant of every pod allows it. Pod-level only: what another container of the pod can do is
 * judged by container reach (container-reach.ts), and logs are the container's own output.
 * Not modelled: host directories configured elsewhere (a kubelet `--root-dir`, k3s's
 * /var/lib/rancher are listed; others are not) and host symlinks.
 */
import { ErrorCode, WardenError, type ExecContext } from '../../src/tool-api.js';
import type { KubeExecFacts } from './facts.js';
import { itemFacts, judgeOf } from './item-scope.js';
import { isObj, type Obj } from './objects.js';
import { normalisePath } from './storage-identity.js';
import type { SharedMount } from './volume-reach.js';

/** Node directories holding every pod's data (or the means to read it); /var/run is /run. */
const NODE_DIRS = [
  '/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/var/lib/containerd', '/run/containerd',
  '/var/lib/docker', '/run/docker.sock', '/run/docker', '/run/cri-dockerd.sock', '/run/dockershim.sock',
  '/var/lib/containers', '/run/containers', '/run/crio',
  '/var/lib/cri-o', '/var/lib/rancher', '/run/k3s', '/var/snap/microk8s', '/etc/kubernetes', '/var/lib/etcd',
  '/proc',
];

/**
 * Capabilities with which a container escapes to its node (names without CAP_, upper case).
 * PERFMON (Linux 5.8+; the default seccomp profiles allow perf_event_open with it) opens
 * CPU-wide perf events whatever perf_event_paranoid says: they sample every process running on
 * that CPU, other pods' included (no namespace confines a CPU-wide event), and a sample may copy
 * the process's registers and up to 64 KB of its user stack (PERF_SAMPLE_REGS_USER,
 * PERF_SAMPLE_STACK_USER): pieces of other pods' memory, the secrets in it included.
 * Not SYSLOG: it reads the kernel's log (dmesg, global to the node) and shows kernel addresses.
 * That log holds the kernel's messages (OOM kills, segfaults, denials: process names, pids,
 * cgroup paths with pod uids, packet headers of LOG rules), not what pods print (the runtime
 * writes that to /var/log/pods, a node directory below); kernel addresses help an exploit but
 * read nothing. Metadata of other pods, not their data; so it is not counted.
 */
const ESCAPING_CAPS = new Set(['ALL', 'SYS_ADMIN', 'SYS_MODULE', 'SYS_RAWIO', 'DAC_READ_SEARCH', 'BPF', 'PERFMON']);

/** Capability names of a list (without CAP_, upper case; a name that is not a string is ALL). */
function capNames(list: unknown): Set<string> {
  return new Set((Array.isArray(list) ? list : []).map((c) => (typeof c === 'string' ? c.toUpperCase().replace(/^CAP_/, '') : 'ALL')));
}

/** Where a hostIPC container is: the node's IPC namespace, and the runtime mounts the node's own /dev/shm. */
const HOST_IPC = "runs in a pod with hostIPC: true, in its node's IPC namespace with the node's /dev/shm (the shared memory of the node's processes and of every hostIPC pod on it)";

/** Where a hostNetwork container is, whatever its capabilities: on the node's loopback and ports. */
const HOST_NETWORK = "runs in a pod with hostNetwork: true, on its node's loopback and node-local ports (the kubelet's, whose read-only port lists every pod on the node with its env values; etcd's; node daemons' on 127.0.0.1)";

/** Why a container of a hostNetwork pod reaches its node: always; with NET_RAW or NET_ADMIN it also captures the node's traffic. */
function hostNetworkReach(sc: Obj): string {
  const caps = isObj(sc.capabilities) ? sc.capabilities : {};
  const add = capNames(caps.add);
  for (const name of ['NET_ADMIN', 'NET_RAW']) if (add.has(name)) return `${HOST_NETWORK}, and is given capability ${name}: it captures the node's traffic`;
  // A drop that is not a list of strings drops nothing Warden can be sure of (fail closed).
  const drop = Array.isArray(caps.drop) && caps.drop.every((c) => typeof c === 'string') ? capNames(caps.drop) : new Set<string>();
  if (drop.has('NET_RAW') || drop.has('ALL')) return HOST_NETWORK;
  return `${HOST_NETWORK}, and keeps capability NET_RAW (runtimes grant it unless dropped): it captures the node's traffic`;
}

/** Is a host path at, above or inside a node directory holding pods' data? */
export function nodeDir(path: string): boolean {
  const p = normalisePath(path).replace(/^\/var\/run(?=\/|$)/, '/run');
  return NODE_DIRS.some((d) => p === d || p === '/' || d.startsWith(`${p}/`) || p.startsWith(`${d}/`));
}

/** Does a (pod or container) securityContext make a Windows hostProcess container? */
const hostProcess = (sc: unknown): boolean => isObj(sc) && isObj(sc.windowsOptions) && sc.windowsOptions.hostProcess === true;

/** Why one container reaches its node, or null. */
function containerReach(c: Obj, hostVolumes: Map<string, string>, hostNetwork: boolean, podHostProcess: boolean): string | null {
  const sc = isObj(c.securityContext) ? c.securityContext : {};
  if (sc.privileged === true) return 'is privileged';
  if (podHostProcess || hostProcess(sc)) return 'is a Windows hostProcess container (securityContext.windowsOptions.hostProcess: true), a process of its node';
  for (const name of capNames(isObj(sc.capabilities) ? sc.capabilities.add : undefined)) {
    if (ESCAPING_CAPS.has(name)) return `is given capability ${name}`;
  }
  for (const m of Array.isArray(c.volumeMounts) ? c.volumeMounts : []) {
    const path = isObj(m) && typeof m.name === 'string' ? hostVolumes.get(m.name) : undefined;
    if (path !== undefined) return `mounts volume ${String((m as Obj).name)} (hostPath) over ${normalisePath(path)}, a directory of its node`;
  }
  return hostNetwork ? hostNetworkReach(sc) : null;
}

/**
 * Container -> why it reaches its node, for a pod object (any list: containers,
 * initContainers, ephemeralContainers); containers that do not are absent.
 */
export function nodeReachOf(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(raw) || !isObj(raw.spec)) return out;
  const spec = raw.spec;
  // Kubernetes admits a hostProcess pod only if all its containers are: the pod's true counts for each.
  const podHostProcess = hostProcess(spec.securityContext);
  const hostVolumes = new Map<string, string>();
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isObj(v) || typeof v.name !== 'string' || !isObj(v.hostPath)) continue;
    const path = typeof v.hostPath.path === 'string' ? v.hostPath.path : '/';
    if (nodeDir(path)) hostVolumes.set(v.name, path);
  }
  for (const k of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[k]) ? spec[k] : []) {
      if (!isObj(c) || typeof c.name !== 'string') continue;
      const why = spec.hostPID === true ? 'runs in a pod with hostPID: true' : spec.hostIPC === true ? HOST_IPC : containerReach(c, hostVolumes, spec.hostNetwork === true, podHostProcess);
      if (why !== null) out[c.name] ??= why;
    }
  }
  return out;
}

/**
 * Refuse the exec when its container reaches its node (`reach`, nodeReachOf of the pod read
 * just before the exec) and the policy does not allow this same exec into pods of every
 * namespace and of unknown labels. Returns at once for a container that does not.
 */
export function assertNodeReachWithinGrant(ctx: ExecContext, facts: KubeExecFacts, reach: Record<string, string>): void {
  // No container known (none resolved): any of the pod's that reaches its node counts, fail closed.
  const why = facts.container !== null ? reach[facts.container] : Object.values(reach)[0];
  if (why !== undefined) judgeNodeReach(ctx, facts, why);
}

/**
 * The same for the container's claims (`mounts`: its shared mounts with the storage of the
 * PersistentVolumes bound to its claims, claim-storage.ts withClaimStorage): one bound to a
 * `hostPath` or `local` volume over a node directory reaches the node as that hostPath does.
 */
export function assertClaimNodeReachWithinGrant(ctx: ExecContext, facts: KubeExecFacts, mounts: SharedMount[]): void {
  const m = mounts.find((x) => x.kind !== 'hostPath' && x.key === 'host:' && x.path !== null && nodeDir(x.path));
  if (m) judgeNodeReach(ctx, facts, `mounts volume ${m.volume} (${m.kind}), bound to a PersistentVolume over ${m.path}, a directory of its node`);
}

/** Refuse unless the policy allows this exec into pods of every namespace and of unknown labels. */
function judgeNodeReach(ctx: ExecContext, facts: KubeExecFacts, why: string): void {
  const every = { ...itemFacts(facts, `the pods of the node pod ${facts.namespace}/${facts.name} runs on`, null, null), namespace: null, name: null, container: null, alsoReaches: null, podLookup: 'unknown' as const };
  const j = judgeOf(ctx, 'the pods of its node')(every);
  if (j.allowed) return;
  throw new WardenError(
    ErrorCode.DENIED,
    `container ${facts.container} of pod ${facts.namespace}/${facts.name} ${why}, so a command in it reaches every pod on its node (their processes, files, secrets or traffic), in any namespace; this grant does not reach them all; nothing ran`,
    { ruleIds: j.ruleIds },
  );
}
