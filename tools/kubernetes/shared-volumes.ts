/**
 * kubectl_exec into a container that mounts a volume other pods can mount too (volume-reach.ts:
 * a hostPath, a claim, an inline network volume): the exec reaches every container of every pod
 * mounting the same storage (a hostPath or NFS path inside the other, or the same claim), since
 * what the command writes there they read, and what they write there the command reads. Each
 * such container is judged, through ExecContext.judge, as this same exec into it (its pod's
 * labels, its name); the exec runs only when every one is allowed. Both mounts read-only carry
 * nothing from one to the other and do not count.
 *
 * Read once, just before the exec: one list of the pods of the namespace (a claim bound to no
 * PersistentVolume only) or of every namespace (a hostPath, a network volume, a claim's bound
 * volume: pods anywhere may name that storage), and one list of the PersistentVolumes when a
 * claim is involved (claim-storage.ts: two claims bound to volumes on the same storage are one
 * storage, and so are an inline volume and a claim's volume; a claim whose volume is a host
 * directory holding the node's pod data reaches every pod of the node, node-reach.ts). A hostPath counts
 * on any node: the other pod may be rescheduled onto this node (or this one onto its node),
 * a pod not yet scheduled has no node, and a node directory is often itself shared storage
 * mounted on every node; the pod's node is not what keeps the data apart. Fail closed: a list
 * Warden cannot read (403, too many pods) refuses the exec, naming the volume, and so do
 * PersistentVolumes it cannot list when a claim is involved (the message names the RBAC
 * permission Warden's service account needs); a refusal never names the other pod (it may lie outside the grant, and kubectl_get refuses it as absent).
 */
import { ErrorCode, WardenError, type ExecContext } from '../../src/tool-api.js';
import { readClaimStorage, withClaimStorage, type ClaimStorage } from './claim-storage.js';
import type { KubeConnector, PodInfo } from './connector.js';
import type { KubeExecFacts } from './facts.js';
import { judgeOf } from './item-scope.js';
import { assertClaimNodeReachWithinGrant } from './node-reach.js';
import { overlaps, type SharedMount } from './volume-reach.js';

/** How a refusal names a volume: `data (hostPath)`. */
function named(m: SharedMount): string {
  return `${m.volume} (${m.kind})`;
}

/** The refusal when the other pods cannot be listed. */
function unreadable(where: string, m: SharedMount, why: string): WardenError {
  const who = m.clusterWide ? 'pods of any namespace' : 'other pods of the namespace';
  return new WardenError(
    ErrorCode.BACKEND,
    `${where} mounts volume ${named(m)}, which ${who} can mount too, and the pods could not be listed to check that this grant reaches every container mounting it (${why}); nothing ran`,
    { volume: m.volume },
  );
}

/** The refusal when the PersistentVolumes cannot be read: it says which permission Warden's service account lacks. */
function pvsUnreadable(where: string, m: SharedMount, e: unknown): WardenError {
  const status = e instanceof WardenError ? e.details.status : undefined;
  const why = status === 403
    ? 'Warden\'s service account may not list persistentvolumes: grant it a ClusterRole with apiGroups [""], resources [persistentvolumes], verbs [list]'
    : `the persistentvolumes could not be listed: ${e instanceof Error ? e.message : String(e)}`;
  return new WardenError(
    ErrorCode.BACKEND,
    `${where} mounts volume ${named(m)}, and a claim involved may be bound to a PersistentVolume that is the same storage as another; ${why}; nothing ran`,
    { volume: m.volume, ...(status !== undefined ? { status } : {}) },
  );
}

/**
 * Refuse the exec when a container of another pod (or another container of this one, through
 * another volume on the same storage) mounts storage `container` mounts and the policy does not
 * allow this same exec into it. `pod` is the pod as read just before the exec (assertSamePod).
 * Claims are judged by the storage of the PersistentVolumes bound to them (claim-storage.ts),
 * read once in this call: before listing the pods when this container mounts a claim (a claim
 * bound to a volume reaches pods of any namespace), otherwise only when a container outside
 * the grant mounts one.
 */
export async function assertSharedVolumesWithinGrant(c: KubeConnector, ctx: ExecContext, facts: KubeExecFacts, pod: PodInfo, signal?: AbortSignal): Promise<void> {
  const container = facts.container;
  const namespace = facts.namespace ?? '';
  let mine = container !== null ? (pod.shared[container] ?? []) : [];
  if (!mine.length) return;
  const where = `container ${container} of pod ${namespace}/${facts.name ?? ''}`;
  let storage: Promise<ClaimStorage> | null = null;
  const claimStorage = (m: SharedMount): Promise<ClaimStorage> => {
    storage ??= readClaimStorage(c, signal);
    return storage.catch((e: unknown) => {
      throw pvsUnreadable(where, m, e);
    });
  };
  const myClaim = mine.find((m) => m.claim !== null);
  if (myClaim) {
    mine = withClaimStorage(mine, await claimStorage(myClaim));
    // A claim bound to a hostPath or local volume over the node's pod data reaches the node (node-reach.ts).
    assertClaimNodeReachWithinGrant(ctx, facts, mine);
  }
  const wide = mine.find((m) => m.clusterWide);
  let pods: Map<string, PodInfo>;
  try {
    pods = await c.listPods(wide ? null : namespace, signal);
  } catch (e) {
    throw unreadable(where, wide ?? mine[0]!, e instanceof Error ? e.message : String(e));
  }
  const judge = judgeOf(ctx, 'the containers of other pods sharing a volume');
  for (const [key, p] of pods) {
    const self = key === `${namespace}/${facts.name}` && p.uid === pod.uid;
    const [ns, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    for (const [other, theirs] of Object.entries(p.shared)) {
      if (self && other === container) continue;
      const meets = (ts: SharedMount[]) => mine.find((m) => ts.some((t) => overlaps(m, t)));
      let hit = meets(theirs);
      const theirClaim = hit ? undefined : theirs.find((t) => t.claim !== null);
      if (!hit && !theirClaim) continue;
      const j = judge({ ...facts, namespace: ns, name, podLabels: p.labels, podLookup: 'found', podUid: p.uid, container: other, alsoReaches: [] });
      if (j.allowed) continue;
      // Their claim may be bound to a volume that is storage this container mounts: read the volumes (once) to know.
      hit ??= meets(withClaimStorage(theirs, await claimStorage(mine[0]!)));
      if (!hit) continue;
      throw new WardenError(
        ErrorCode.DENIED,
        `${where} mounts volume ${named(hit)}, which a container outside this grant also mounts (what the command writes there it reads, and what it writes there the command reads); nothing ran`,
        { ruleIds: j.ruleIds, volume: hit.volume },
      );
    }
  }
}
