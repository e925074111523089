/**
 * A Node describes the pods it runs: `status.images` lists every image pulled for them (names,
 * tags, digests), and `status.volumesInUse` / `status.volumesAttached` the volumes mounted for
 * them. Nothing in a Node says which pod or container each belongs to, so they cannot be judged
 * one by one: under a grant limited by `pod_labels` or by `containers:` (or a deny naming
 * either), kubectl_get drops these fields from every node it shows, and shows the rest (capacity, conditions, addresses, nodeInfo, taints: the node's own).
 * A condition of a type the kubelet does not set (KUBELET_CONDITIONS) is shown with its type,
 * status and times only, without its message and its reason: node-problem-detector's
 * KernelDeadlock carries the kernel's line naming the hung task (`task postgres:4242 blocked`,
 * the text of the TaskHung event withheld below), and a plugin's condition may say anything,
 * pods by name included; a reason is free text as well (any writer of node status sets it, a
 * CamelCase word by convention only). The kubelet's messages and reasons name none.
 *
 * "Limited" is asked of the policy as every scope asks it (item-scope.ts): the same call, for
 * pods of unknown labels and a container of unknown name (ANY_CONTAINER), through
 * ExecContext.judge. When that is allowed (no pod_labels nor containers rule applies, and no
 * deny on either), the node is shown whole, and nothing is read beyond the node.
 */
import type { ExecContext } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { allowedForAnyPods, judgeOf } from './item-scope.js';
import { isObj, type Obj } from './objects.js';

/** The Node status fields that describe its pods. */
export const NODE_POD_FIELDS = ['images', 'volumesInUse', 'volumesAttached'] as const;

/** The condition types the kubelet sets (NetworkUnavailable: the network plugin), whose reasons and messages say how the node is (shown whole). */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable']);

/** The fields of a condition the kubelet does not set that a pod_labels grant sees (not reason, message, nor anything else). */
const BARE_CONDITION_FIELDS = ['type', 'status', 'lastHeartbeatTime', 'lastTransitionTime'] as const;

/** What strip withheld. */
interface Dropped {
  fields: boolean;
  texts: boolean;
}

/** Conditions with only the type, status and times of each the kubelet does not set; conditions that are not a list of objects are dropped (fail closed). */
function stripConditions(conditions: unknown, dropped: Dropped): unknown[] | undefined {
  if (!Array.isArray(conditions)) {
    dropped.texts = true;
    return undefined;
  }
  return conditions.flatMap((c) => {
    if (!isObj(c)) {
      dropped.texts = true;
      return [];
    }
    if (typeof c.type === 'string' && KUBELET_CONDITIONS.has(c.type)) return [c];
    const bare: Obj = {};
    for (const k of BARE_CONDITION_FIELDS) if (Object.hasOwn(c, k)) bare[k] = c[k];
    if (Object.keys(bare).length < Object.keys(c).length) dropped.texts = true;
    return [bare];
  });
}

/** A node without the fields of its pods; `dropped` says what was there. A status that is not an object is dropped whole (fail closed). */
function strip(node: unknown, dropped: Dropped): unknown {
  if (!isObj(node) || node.status === undefined || node.status === null) return node;
  if (!isObj(node.status)) {
    dropped.fields = true;
    const rest: Obj = { ...node };
    delete rest.status;
    return rest;
  }
  const status: Obj = {};
  for (const [k, v] of Object.entries(node.status)) {
    if ((NODE_POD_FIELDS as readonly string[]).includes(k)) dropped.fields = true;
    else if (k !== 'conditions') status[k] = v;
    else {
      const conditions = stripConditions(v, dropped);
      if (conditions !== undefined) status[k] = conditions;
    }
  }
  return { ...node, status };
}

/** The nodes of an answer (a list, or one named node), without the fields of their pods unless this call may read pods of any labels. */
export function scopeNodes(answer: unknown, call: KubeFacts, ctx: ExecContext): { answer: unknown; notes: string[] } {
  if (allowedForAnyPods(call, judgeOf(ctx, 'the pods of nodes'))) return { answer, notes: [] };
  const dropped: Dropped = { fields: false, texts: false };
  const out = isObj(answer) && Array.isArray(answer.items) ? { ...answer, items: answer.items.map((n) => strip(n, dropped)) } : strip(answer, dropped);
  const fields = NODE_POD_FIELDS.map((f) => `status.${f}`).join(', ');
  const notes = dropped.fields ? [`${fields} of nodes are withheld: they show every container of pods of every label, and this grant is limited by pod labels or containers`] : [];
  if (dropped.texts) notes.push(`the reasons and messages of node conditions the kubelet does not set (${[...KUBELET_CONDITIONS].join(', ')} are shown whole) are withheld: free text any writer of node status sets, they may name what pods of any label run, and this grant is limited by pod labels or containers`);
  return { answer: out, notes };
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
