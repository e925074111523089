/**
 * Workload objects carry a pod template, and the template is what their pods will be: images,
 * args, env, volumes, labels. Under a `pod_labels` grant a workload object (and an event about
 * one) is judged as its pods would be, with the template's labels. This module knows where
 * each workload kind keeps its template and at which API path the kind is read.
 *
 * Template labels are a subset of the pods' labels: controllers add their own (the
 * `pod-template-hash` of a Deployment's ReplicaSet, a StatefulSet pod's `pod-name`, a Job
 * pod's `job-name`, ...), with values the template does not know. An allow is sound on the
 * template (its labels are on every pod), a deny on an added key is not, so the keys each kind
 * may add are listed here and a deny treats them as unknown (condition.ts).
 *
 * Kinds with no pod template are not judged here: Services and PodDisruptionBudgets by their
 * selector (service-scope.ts, selector-objects.ts), Nodes by what they show (node-scope.ts),
 * events about any other kind as pods of unknown labels (event-scope.ts).
 */
import type { KubeConnector } from './connector.js';
import type { Kind } from './facts.js';
import { isObj } from './objects.js';
import { reachOf } from './container-reach.js';

/** Where a workload kind lives, and the pod labels its controller adds beside the template's. */
interface Workload {
  group: string;
  resource: string;
  added: readonly string[];
}

const JOB_ADDED = ['controller-uid', 'job-name', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name', 'batch.kubernetes.io/job-completion-index'];

/**
 * Workload kinds by their `kind` (as an event's involvedObject names them). A ReplicaSet adds
 * nothing: its template already carries the hash its Deployment set.
 */
const WORKLOADS: ReadonlyMap<string, Workload> = new Map([
  ['Deployment', { group: '/apis/apps/v1', resource: 'deployments', added: ['pod-template-hash'] }],
  ['ReplicaSet', { group: '/apis/apps/v1', resource: 'replicasets', added: [] }],
  ['StatefulSet', { group: '/apis/apps/v1', resource: 'statefulsets', added: ['controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index'] }],
  ['DaemonSet', { group: '/apis/apps/v1', resource: 'daemonsets', added: ['controller-revision-hash', 'pod-template-generation'] }],
  ['Job', { group: '/apis/batch/v1', resource: 'jobs', added: JOB_ADDED }],
  ['CronJob', { group: '/apis/batch/v1', resource: 'cronjobs', added: JOB_ADDED }],
  ['ReplicationController', { group: '/api/v1', resource: 'replicationcontrollers', added: [] }],
]);

/** The kubectl_get kinds that are workloads, with their `kind`. Why: only these are judged item by item. */
export const TEMPLATE_KINDS: ReadonlyMap<Kind, string> = new Map([['deployments', 'Deployment']]);

/** Is this `kind` (Deployment, Job, ...) one whose objects carry a pod template? */
export function isWorkloadKind(kind: string): boolean {
  return WORKLOADS.has(kind);
}

/** The pod label keys a workload kind's controller adds. Why: a deny on them cannot be judged on the template. */
export function addedLabelKeys(kind: string): readonly string[] {
  return WORKLOADS.get(kind)?.added ?? [];
}

/** An object's pod template (`spec.template`, a CronJob's `spec.jobTemplate.spec.template`), if any. */
function templateOf(kind: string, obj: unknown): unknown {
  const spec = isObj(obj) && isObj(obj.spec) ? obj.spec : null;
  const jobSpec = kind === 'CronJob' && spec && isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec : null;
  return kind === 'CronJob' ? jobSpec?.template : spec?.template;
}

/** Every container name of an object's pod template (containers, init, ephemeral); null when it has no readable template. */
export function templateContainers(kind: string, obj: unknown): string[] | null {
  const tpl = templateOf(kind, obj);
  return isObj(tpl) && isObj(tpl.spec) ? reachOf(tpl.spec).all : null;
}

/**
 * The labels of an object's pod template (`spec.template`, a CronJob's
 * `spec.jobTemplate.spec.template`). Why null: an object with no readable template is judged
 * as pods of unknown labels (fail closed). A template with no labels has `{}`.
 */
export function templateLabels(kind: string, obj: unknown): Record<string, string> | null {
  const tpl = templateOf(kind, obj);
  if (!isObj(tpl)) return null;
  const meta = tpl.metadata;
  if (meta === undefined || meta === null) return {};
  if (!isObj(meta)) return null;
  if (meta.labels === undefined || meta.labels === null) return {};
  if (!isObj(meta.labels)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta.labels)) {
    if (typeof v !== 'string') return null;
    out[k] = v;
  }
  return out;
}

/** One workload object as judged: its uid and template labels (null: unreadable). */
export interface TemplateInfo {
  uid: string;
  labels: Record<string, string> | null;
  /** Its template's container names (null: unreadable), for the text of its events (event-scope.ts). */
  containers: string[] | null;
}

/**
 * Every object of a workload kind in a namespace (null: all), keyed `namespace/name`. Why a
 * list: a page of events names many objects, read in one request per page rather than one per
 * event. A refusal or a failure is an error (the caller refuses the call), never an empty index.
 */
export async function readTemplates(c: KubeConnector, kind: string, namespace: string | null, signal?: AbortSignal): Promise<Map<string, TemplateInfo>> {
  const w = WORKLOADS.get(kind);
  if (!w) return new Map();
  return c.listAll(w.group, w.resource, namespace, (o) => ({
    uid: isObj(o) && isObj(o.metadata) && typeof o.metadata.uid === 'string' ? o.metadata.uid : '',
    labels: templateLabels(kind, o),
    containers: templateContainers(kind, o),
  }), signal);
}
