/**
 * The pod lookup every pod-level call does before the decision, so that `pod_labels` and
 * `containers` rules judge the real pod (its labels from the API server, its default
 * container) and not a name the agent chose.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { KubeConnector } from './connector.js';
import type { PodLookup } from './facts.js';

/** The pod part of the facts. */
export interface PodFacts {
  podLabels: Record<string, string> | null;
  podLookup: PodLookup;
  podUid: string | null;
  container: string | null;
}

/** Look the pod up and resolve the container (the given one, or the pod's default). */
export async function podFacts(c: KubeConnector, namespace: string, pod: string, container: string | undefined): Promise<PodFacts> {
  const r = await c.lookupPod(namespace, pod);
  if (r.state !== 'found') return { podLabels: null, podLookup: r.state, podUid: null, container: container ?? null };
  return { podLabels: r.pod.labels, podLookup: 'found', podUid: r.pod.uid, container: container ?? r.pod.defaultContainer };
}

/**
 * Just before a pod-level call acts: the pod must still be the one the policy decided on (same
 * uid). An approval wait can take minutes, and a pod replaced under the same name (a
 * StatefulSet's) may carry other labels; nothing runs or is read from it.
 */
export async function assertSamePod(c: KubeConnector, namespace: string, pod: string, uid: string | null, signal?: AbortSignal, labels?: Record<string, string> | null): Promise<void> {
  const now = await c.lookupPod(namespace, pod, signal);
  if (now.state !== 'found' || !uid || now.pod.uid !== uid) throw replaced(namespace, pod);
  // Labels are mutable on the same pod (`kubectl label --overwrite`): the decision judged these.
  if (labels !== undefined && !sameLabels(labels, now.pod.labels)) throw relabelled(namespace, pod);
}

/** The error when the pod is not the one decided on. */
export function replaced(namespace: string, pod: string, nothing = 'nothing ran'): WardenError {
  return new WardenError(ErrorCode.BACKEND, `pod ${namespace}/${pod} was deleted or replaced after the policy decided; ${nothing}, call again to have the current pod checked`);
}

/** The error when the pod's labels changed since the decision. */
export function relabelled(namespace: string, pod: string, nothing = 'nothing ran'): WardenError {
  return new WardenError(ErrorCode.BACKEND, `the labels of pod ${namespace}/${pod} changed after the policy decided; ${nothing}, call again to have the current pod checked`);
}

/** Same label set (null, unknown labels, never equals anything). */
export function sameLabels(a: Record<string, string> | null, b: unknown): boolean {
  if (a === null || b === null || typeof b !== 'object' || Array.isArray(b)) return false;
  const bb = b as Record<string, unknown>;
  const ka = Object.keys(a);
  return ka.length === Object.keys(bb).length && ka.every((k) => Object.hasOwn(bb, k) && bb[k] === a[k]);
}
