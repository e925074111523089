/**
 * The pod lookup every pod-level call does before the decision, so that `pod_labels` and
 * `containers` rules judge the real pod (its labels from the API server, its default
 * container) and not a name the agent chose.
 */
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
