/**
 * The pod lookup every pod-level call does before the decision, so that `pod_labels` and
 * `containers` rules judge the real pod (its labels from the API server, its default
 * container) and not a name the agent chose; and the re-reads just before and just after the
 * call acts, so that it acts on (and answers from) that pod only.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { KubeConnector, PodInfo, PodLookupResult } from './connector.js';
import type { PodLookup } from './facts.js';
import { reachedBesides } from './container-reach.js';

/** The pod part of the facts. */
export interface PodFacts {
  podLabels: Record<string, string> | null;
  podLookup: PodLookup;
  podUid: string | null;
  container: string | null;
  /** exec and logs: the other containers reached (null: unknown, the container is not the pod's). */
  alsoReaches?: string[] | null;
  /** exec: the mountPaths of the Secret volumes its container, and every container it reaches, mount (secret-mounts.ts), which the shell condition treats as secret files. */
  secretMounts?: string[];
}

/**
 * Look the pod up and resolve the container (the given one, or the pod's default). With
 * `action` (exec, logs), also the other containers that call reaches (container-reach.ts):
 * null when the container is not one of the pod's (unknown reach).
 */
export async function podFacts(c: KubeConnector, namespace: string, pod: string, container: string | undefined, action?: PodAction): Promise<PodFacts> {
  const r = await c.lookupPod(namespace, pod);
  if (r.state !== 'found') return { podLabels: null, podLookup: r.state, podUid: null, container: container ?? null, ...(action ? { alsoReaches: null } : {}) };
  const name = container ?? r.pod.defaultContainer;
  const alsoReaches = action && name !== null ? reachedBesides(r.pod.reach, name, action) : null;
  // A container sharing another's processes reads its files through /proc/PID/root: the
  // Secret volumes of every container the exec reaches are secret places for it too.
  const secretMounts = action === 'exec' && name !== null ? secretPlaces(r.pod.secretMounts, [name, ...(alsoReaches ?? [])]) : undefined;
  return { podLabels: r.pod.labels, podLookup: 'found', podUid: r.pod.uid, container: name, ...(action ? { alsoReaches } : {}), ...(secretMounts ? { secretMounts } : {}) };
}

/** The mountPaths of the Secret volumes of these containers, each once. */
function secretPlaces(mounts: Record<string, string[]>, containers: string[]): string[] {
  return [...new Set(containers.flatMap((c) => mounts[c] ?? []))];
}

/**
 * Just before exec or logs act: the container must be one the pod had when the policy decided
 * (an ephemeral container added since could share another container's processes unjudged).
 */
export function assertKnownContainer(namespace: string, pod: string, container: string, alsoReaches: string[] | null | undefined): void {
  if (alsoReaches === null) throw new WardenError(ErrorCode.BACKEND, `container ${container} is not a container of pod ${namespace}/${pod} (it was not when the policy decided); nothing ran`);
}

/**
 * Just before a pod-level call acts: the pod must still be the one the policy decided on (same
 * uid). An approval wait can take minutes, and a pod replaced under the same name (a
 * StatefulSet's) may carry other labels; nothing runs or is read from it.
 */
export async function assertSamePod(c: KubeConnector, namespace: string, pod: string, uid: string | null, signal?: AbortSignal, labels?: Record<string, string> | null, reach?: DecidedReach): Promise<PodInfo> {
  return judgeNow(await c.lookupPod(namespace, pod, signal), namespace, pod, uid, labels, undefined, reach);
}

/**
 * What the policy judged an exec to reach besides its container. Why checked again: an
 * ephemeral container added after the decision (same pod uid) may mount a volume the exec'd
 * container mounts, or target it (`kubectl debug --target`) and so put its processes in the
 * exec'd container's view; the call would reach a container nobody judged.
 */
export interface DecidedReach {
  container: string;
  alsoReaches: string[] | null | undefined;
  action: PodAction;
}

/** What a pod-level call had done when the pod is read after it (said in the error). */
export type PodAction = 'exec' | 'logs';

const AFTER: Record<PodAction, { when: string; replaced: string; withheld: string }> = {
  exec: {
    when: 'after the command ran',
    replaced: 'the command ran and may have run in a pod the policy did not judge, so its output is withheld',
    withheld: 'the command ran and its output is withheld',
  },
  logs: {
    when: 'after its log was read',
    replaced: 'the log read may be from a pod the policy did not judge and is withheld',
    withheld: 'the log read is withheld',
  },
};

/**
 * Just after a pod-level call acted (the exec stream ended, the log was read). Why: the exec
 * and log APIs name a pod, never a uid, so a pod replaced (or relabelled) between
 * assertSamePod and the request answers in place of the judged one. One more read; when the
 * pod is not the one decided on, what came back is withheld. For exec this protects what the
 * agent sees, not what ran: the command has run, maybe in the other pod.
 */
export async function assertAnsweredBySamePod(c: KubeConnector, namespace: string, pod: string, uid: string | null, labels: Record<string, string> | null, action: PodAction, signal?: AbortSignal, reach?: DecidedReach): Promise<void> {
  const t = AFTER[action];
  const unconfirmed = (why: string) =>
    new WardenError(ErrorCode.BACKEND, `pod ${namespace}/${pod} could not be read again ${t.when} to confirm it is the one the policy decided on (${why}); ${t.withheld}`);
  let now: PodLookupResult;
  try {
    now = await c.lookupPod(namespace, pod, signal);
  } catch (e) {
    throw unconfirmed(e instanceof Error ? e.message : String(e));
  }
  if (now.state === 'forbidden') throw unconfirmed('403 Forbidden');
  judgeNow(now, namespace, pod, uid, labels, t, reach);
}

/** The pod as read now, when it is the one decided on. */
function judgeNow(now: PodLookupResult, namespace: string, pod: string, uid: string | null, labels: Record<string, string> | null | undefined, t?: { replaced: string; withheld: string }, reach?: DecidedReach): PodInfo {
  if (now.state !== 'found' || !uid || now.pod.uid !== uid) throw replaced(namespace, pod, t?.replaced);
  // Labels are mutable on the same pod (`kubectl label --overwrite`): the decision judged these.
  if (labels !== undefined && !sameLabels(labels, now.pod.labels)) throw relabelled(namespace, pod, t?.withheld);
  if (reach && !sameReach(reach, reachedBesides(now.pod.reach, reach.container, reach.action))) throw reachGrew(namespace, pod, reach.container, t?.withheld);
  return now.pod;
}

/** Does the call reach no container now that it did not reach when judged? */
function sameReach(decided: DecidedReach, now: string[] | null): boolean {
  return now !== null && Array.isArray(decided.alsoReaches) && now.every((c) => decided.alsoReaches!.includes(c));
}

/** The error when the container reaches more than was judged (the others are not named: they may be withheld). */
function reachGrew(namespace: string, pod: string, container: string, nothing = 'nothing ran'): WardenError {
  return new WardenError(ErrorCode.BACKEND, `container ${container} of pod ${namespace}/${pod} shares processes or a volume with a container it did not when the policy decided (one added since); ${nothing}, call again to have the current pod checked`);
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
