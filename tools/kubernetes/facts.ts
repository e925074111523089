/**
 * What the kubernetes parsers understood about one call. Why two families: a `kubectl_exec`
 * call must be judged by both the `kubernetes:` block (where) and the `shell:` block (what
 * runs), so its facts carry the shell fields and the family `kubernetes-exec`, which both
 * conditions list; get and logs facts are family `kubernetes` and only that block judges them.
 */
import type { Facts } from '../../src/tool-api.js';
import type { ShellCommand, ShellConstruct } from '../shared/shell/index.js';
import type { LabelRequirement } from './names.js';

/** The kinds kubectl_get serves. */
export const KINDS = ['pods', 'deployments', 'services', 'configmaps', 'events', 'nodes', 'namespaces', 'secrets'] as const;
/** A kind name. */
export type Kind = (typeof KINDS)[number];
/** Verbs a `kubernetes:` block may grant. */
export const VERBS = ['get', 'list', 'logs', 'exec'] as const;
/** A verb name. */
export type Verb = (typeof VERBS)[number];
/** Kinds without a namespace. */
export const CLUSTER_KINDS: ReadonlySet<string> = new Set(['nodes', 'namespaces']);

/**
 * How the pod lookup before exec/logs went; labels are known only when `found`. For events,
 * workload objects and services it says whether the facts are about pods at all:
 * `not-applicable` on the facts of the call (each item it returns is judged later, one by one,
 * with the labels of the pods it is about: a pod's, a pod template's, or a selector's).
 * `unknown`: an item that may show pods Warden cannot name (an event about a kind it cannot
 * judge, or about a Node but not its own state): pods of unknown labels.
 */
export type PodLookup = 'found' | 'not-found' | 'forbidden' | 'unknown' | 'not-applicable';

/** Facts shared by every kubernetes tool. */
export interface KubeFacts extends Facts {
  family: 'kubernetes' | 'kubernetes-exec';
  verb: Verb;
  kind: Kind;
  /** null for cluster-scoped kinds. */
  namespace: string | null;
  name: string | null;
  /** The container the call reaches (exec/logs), resolved from the pod when omitted. */
  container: string | null;
  /**
   * exec and logs: the other containers of the pod the call reaches (an ephemeral container's
   * target; for exec, the ephemeral containers targeting it, under shareProcessNamespace every
   * container, and every container mounting a volume it mounts), null when unknown (the container is not one of the pod's).
   * `containers:` rules judge them too (container-reach.ts).
   */
  alsoReaches?: string[] | null;
  /** Labels read from the API server (pods only), null when unknown. */
  podLabels: Record<string, string> | null;
  podLookup: PodLookup;
  /** The pod's uid at lookup time (exec/logs), so execute can notice a replaced pod. */
  podUid: string | null;
  /** Label selector of a list, canonical and parsed. */
  labelSelector: LabelRequirement[] | null;
  /** Secret keys the agent asked to see in clear (must be granted by reveal_secret_keys). */
  revealKeys: string[];
  /**
   * On the facts of one item judged before it is shown (an event, a workload object, a
   * service): the pods
   * it is about, as reasons name them (`pod shop/web-1`, `the pod template of ReplicaSet
   * shop/web-5c4`); their labels are podLabels. Absent on the call's facts.
   */
  involvedPod?: string;
  /**
   * Pod-template items only: label keys the pods carry with values the template does not know
   * (set by the workload's controller, such as `pod-template-hash`). No allow is met by them and
   * every deny on them is (pod-templates.ts).
   */
  unknownLabelKeys?: string[];
  /**
   * Selector items only (a Service, by its selector): podLabels are the labels every selected
   * pod carries, and any other key has a value the item does not know. No allow is met by such a
   * key and every deny on one is (service-scope.ts).
   */
  otherLabelsUnknown?: boolean;
}

/** Facts of kubectl_exec: the kubernetes facts plus the shell facts of the argv or script. */
export interface KubeExecFacts extends KubeFacts {
  family: 'kubernetes-exec';
  argv: string[];
  commands: ShellCommand[];
  pipelines: number;
  constructs: ShellConstruct[];
  source: 'line' | 'argv' | 'sh-c';
}

/** Type guard for the kubernetes condition. */
export function isKubeFacts(f: Facts): f is KubeFacts {
  return (f.family === 'kubernetes' || f.family === 'kubernetes-exec') && typeof (f as KubeFacts).verb === 'string';
}
