/**
 * A Node describes the pods it runs: `status.images` lists every image pulled for them (names,
 * tags, digests), and `status.volumesInUse` / `status.volumesAttached` the volumes mounted for
 * them. Nothing in a Node says which pod each belongs to, so they cannot be judged one by one:
 * under a grant limited by `pod_labels`, kubectl_get drops these fields from every node it
 * shows, and shows the rest (capacity, conditions, addresses, nodeInfo, taints: the node's own).
 *
 * "Limited by pod_labels" is asked of the policy as every scope asks it (item-scope.ts): the
 * same call, for pods of unknown labels, through ExecContext.judge. When that is allowed (no
 * pod_labels rule applies, and no deny on pod labels), the node is shown whole, and nothing is
 * read beyond the node.
 */
import type { ExecContext } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { allowedForAnyLabels, judgeOf } from './item-scope.js';
import { isObj, type Obj } from './objects.js';

/** The Node status fields that describe its pods. */
export const NODE_POD_FIELDS = ['images', 'volumesInUse', 'volumesAttached'] as const;

/** A node without the fields of its pods; `dropped` is told when one was there. A status that is not an object is dropped whole (fail closed). */
function strip(node: unknown, dropped: () => void): unknown {
  if (!isObj(node) || node.status === undefined || node.status === null) return node;
  if (!isObj(node.status)) {
    dropped();
    const rest: Obj = { ...node };
    delete rest.status;
    return rest;
  }
  const status: Obj = {};
  for (const [k, v] of Object.entries(node.status)) {
    if ((NODE_POD_FIELDS as readonly string[]).includes(k)) dropped();
    else status[k] = v;
  }
  return { ...node, status };
}

/** The nodes of an answer (a list, or one named node), without the fields of their pods unless this call may read pods of any labels. */
export function scopeNodes(answer: unknown, call: KubeFacts, ctx: ExecContext): { answer: unknown; notes: string[] } {
  if (allowedForAnyLabels(call, judgeOf(ctx, 'the pods of nodes'))) return { answer, notes: [] };
  let any = false;
  const dropped = () => void (any = true);
  const out = isObj(answer) && Array.isArray(answer.items) ? { ...answer, items: answer.items.map((n) => strip(n, dropped)) } : strip(answer, dropped);
  const fields = NODE_POD_FIELDS.map((f) => `status.${f}`).join(', ');
  return { answer: out, notes: any ? [`${fields} of nodes are withheld: they show pods of every label, and this grant is limited by pod labels`] : [] };
}

/**
 * Reasons of the events kubelet and the node controllers record about a Node's own state
 * (readiness, pressure conditions, registration, reboots, schedulability), none of which names
 * a pod, an image or a process. Why a list: other events about a Node can show its pods with no
 * word of which pod (`SystemOOM` names the victim process, `ImageGCFailed` / `FreeDiskSpaceFailed`
 * images, `EvictionThresholdMet` and node-problem-detector's `TaskHung` / `KernelOops` what its
 * pods run), like `status.images`: under `pod_labels` only these are shown (event-scope.ts).
 */
export const NODE_OWN_REASONS: ReadonlySet<string> = new Set([
  'Starting', 'NodeReady', 'NodeNotReady', 'NodeSchedulable', 'NodeNotSchedulable', 'NodeAllocatableEnforced',
  'NodeHasSufficientMemory', 'NodeHasInsufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasDiskPressure',
  'NodeHasSufficientPID', 'NodeHasInsufficientPID', 'RegisteredNode', 'RemovingNode', 'DeletingNode',
  'Rebooted', 'Shutdown', 'InvalidDiskCapacity', 'CIDRNotAvailable', 'CIDRAssignmentFailed',
]);

/** Is this event about a Node's own state (NODE_OWN_REASONS), so a pod_labels grant sees it as it sees the node? */
export function aboutNodeItself(ev: unknown): boolean {
  return isObj(ev) && typeof ev.reason === 'string' && NODE_OWN_REASONS.has(ev.reason);
}
