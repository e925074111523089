/**
 * Events are about objects, and an event about a pod says what that pod is doing (probe
 * failures with their output, images, restarts); an event about a workload object names the
 * pods it makes (`Created pod: db-7f9-x2x`, `create Pod pg-0 in StatefulSet pg`); an event
 * about a Service or a PodDisruptionBudget names the object and what happens to the pods it
 * picks. A grant limited by `pod_labels` must not show through events what it hides as pods or
 * as those objects. The decision cannot see which objects a list of events names before they
 * are read, so each event read is judged here, through ExecContext.judge (item-scope.ts), as
 * this same call made for the pods it is about, read from the API server now (one list per
 * kind named, not one read per event):
 * - a Pod: its labels;
 * - a workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
 *   ReplicationController): its pod template's labels (pod-templates.ts);
 * - a Service or a PodDisruptionBudget: the labels its selector fixes, as kubectl_get judges a
 *   Service (selector-objects.ts, service-scope.ts); an ExternalName Service without a selector
 *   picks no pod and follows the call's decision;
 * - a Node: nothing is read. An event about its own state (NODE_OWN_REASONS, node-scope.ts) is
 *   shown as a pod_labels grant sees the node; any other may show its pods without naming them
 *   (an OOM victim, pulled images) and is pods of unknown labels, as `status.images` is withheld;
 * - any other kind (ConfigMap, PersistentVolumeClaim, HorizontalPodAutoscaler, a custom
 *   resource, ...): Warden cannot tell which pods it shows: pods of unknown labels.
 * Pods of unknown labels are outside every pod_labels allow and inside every deny on pod
 * labels (fail closed). The `kubernetes:` condition judges each as it judges a pod.
 *
 * A kind is judged as the built-in kind of that name only under its API group (its
 * `apiVersion`, BUILTIN_GROUPS; none given: the built-in kind): a `Pod` of `example.com/v1` is a
 * custom resource, and like any other kind is pods of unknown labels.
 *
 * The object an event is about is `involvedObject` in core/v1 and `regarding` in
 * events.k8s.io/v1 (kubectl_get reads core/v1 only, but an answer in the other shape, or
 * carrying both, is judged on every reference it holds), with `related`; an event with neither,
 * or with a reference that cannot be read, is about pods of unknown labels. Each reference is
 * judged in its own namespace (a `related` object may be of another: the scheduler's
 * `Preempted` names the preempting pod), also under a grant without pod_labels. An object that no
 * longer exists, or exists under another uid than the event names, has unknown labels, and so
 * has one named without a uid: which object of that name it was about cannot be told (a deleted
 * pod's events would be judged by a new pod of its name). When no
 * pod_labels rule applies (the call is allowed for pods of unknown labels), every event follows
 * the call's decision and nothing more is read.
 *
 * A reference whose `fieldPath` names a container (`spec.containers{sidecar}`, also
 * initContainers and ephemeralContainers) is judged with that container set, as kubectl_get
 * judges a pod's containers (container-scope.ts): under a grant naming `containers:`, an event
 * about a container the grant does not reach is withheld, as that container is from the pod.
 * One without a fieldPath about a pod or a workload object is withheld when its text names one
 * of that object's containers the grant does not reach (namesWithheld), and an event that may
 * show pods Warden cannot name is judged as any container (ANY_CONTAINER, item-scope.ts).
 */
import type { ExecContext, ItemJudgement } from '../../src/tool-api.js';
import type { KubeConnector, PodInfo } from './connector.js';
import type { KubeFacts } from './facts.js';
import { ANY_CONTAINER, allowedForAnyLabels, allowedForAnyPods, anyPodFacts, itemFacts, judgeOf, keepAllowed, selectorFacts, templateFacts, type Judge } from './item-scope.js';
import { names } from './container-traces.js';
import { aboutNodeItself } from './node-scope.js';
import { isWorkloadKind, readTemplates } from './pod-templates.js';
import { isSelectorKind, readSelectors } from './selector-objects.js';
import { isObj } from './objects.js';

/**
 * The pods listed to judge the events (namespace null: every namespace), kept for this call's
 * masking of the events' text by their pods' environment (written-values.ts): no second read.
 */
export interface PodsSeen {
  pods?: { namespace: string | null; pods: Map<string, PodInfo> };
}

/** An object an event names; kind and name null when the event's object cannot be read. */
interface Subject {
  kind: string | null;
  namespace: string;
  name: string | null;
  uid: string | null;
  /** The container the reference's fieldPath names, if any. */
  container: string | null;
}

/** The container a reference's fieldPath names (`spec.containers{NAME}`), or null. */
function containerOf(r: unknown): string | null {
  const m = isObj(r) && typeof r.fieldPath === 'string' ? /^spec\.(?:containers|initContainers|ephemeralContainers)\{([^}]+)\}/.exec(r.fieldPath) : null;
  return m ? m[1]! : null;
}

/** The uid and the labels (a pod's, a template's, or those a selector fixes) of the objects of one kind, keyed `namespace/name`. */
type Index = Map<string, { uid: string; labels: Record<string, string> | null; selectsNoPods?: boolean; containers?: string[] | null; reach?: { all: string[] } }>;

function eventName(ev: unknown, fallbackNs: string | null): { namespace: string; name: string } {
  const m = isObj(ev) && isObj(ev.metadata) ? ev.metadata : {};
  return { namespace: typeof m.namespace === 'string' ? m.namespace : (fallbackNs ?? ''), name: typeof m.name === 'string' ? m.name : '(unnamed)' };
}

/** The fields naming the object an event is about: core/v1's, then events.k8s.io/v1's. */
const ABOUT = ['involvedObject', 'regarding'] as const;

/**
 * The API groups of the built-in kinds events are judged by (`extensions` held Deployments,
 * ReplicaSets and DaemonSets before `apps`). Why: a kind is named within its group; a `Pod` of
 * `example.com/v1` is a custom resource, not the pod of that name. A reference without an
 * apiVersion is the built-in kind (the kubelet names its Node so).
 */
const BUILTIN_GROUPS: ReadonlyMap<string, readonly string[]> = new Map([
  ...['Pod', 'Node', 'Service', 'ReplicationController'].map((k): [string, string[]] => [k, ['']]),
  ...['Deployment', 'ReplicaSet', 'DaemonSet'].map((k): [string, string[]] => [k, ['apps', 'extensions']]),
  ['StatefulSet', ['apps']], ['Job', ['batch']], ['CronJob', ['batch']], ['PodDisruptionBudget', ['policy']],
]);

/** The kind a reference names, `group/Kind` when it is not the built-in kind of that name (an unknown kind). */
function kindOf(r: Record<string, unknown>, kind: string): string {
  const groups = BUILTIN_GROUPS.get(kind);
  if (groups === undefined || r.apiVersion === undefined || r.apiVersion === null || r.apiVersion === '') return kind;
  const v = typeof r.apiVersion === 'string' ? r.apiVersion : '?/?';
  const group = v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
  // The core group has one version, v1: any other is no built-in kind.
  return groups.includes(group) && (group !== '' || v === 'v1') ? kind : `${v.includes('/') ? group : v}/${kind}`;
}

/** Are the objects of this kind read to judge an event about one? */
function isRead(kind: string): boolean {
  return kind === 'Pod' || isWorkloadKind(kind) || isSelectorKind(kind);
}

/** The objects an event is about (involvedObject or regarding, and related). */
function subjectsOf(ev: unknown, fallbackNs: string | null): Subject[] {
  const o = isObj(ev) ? ev : {};
  const ns = eventName(ev, fallbackNs).namespace;
  const out: Subject[] = [];
  const ref = (r: unknown) => {
    const container = containerOf(r);
    if (!isObj(r) || typeof r.kind !== 'string' || !r.kind) return void out.push({ kind: null, namespace: ns, name: null, uid: null, container });
    const name = typeof r.name === 'string' && r.name ? r.name : null;
    const kind = kindOf(r, r.kind);
    out.push({
      kind: name === null ? null : kind,
      namespace: kind === 'Node' ? '' : typeof r.namespace === 'string' && r.namespace ? r.namespace : ns,
      name,
      uid: typeof r.uid === 'string' && r.uid ? r.uid : null,
      container,
    });
  };
  const about = ABOUT.filter((k) => o[k] !== undefined && o[k] !== null);
  if (!about.length) ref(undefined);
  for (const k of about) ref(o[k]);
  if (o.related !== undefined && o.related !== null) ref(o.related);
  return out;
}

/**
 * An event that may show pods Warden cannot name (`who` as reasons name it): pods of unknown
 * labels, and any of their containers (ANY_CONTAINER), as a Node's images are (node-scope.ts).
 */
function unknownFacts(call: KubeFacts, who: string, namespace: string): KubeFacts {
  return { ...anyPodFacts(call, who, namespace), podLookup: 'unknown' };
}

/** Does a subject of this kind have containers an event's text may name without a fieldPath (a pod's, a template's)? */
function carriesContainers(s: Subject): boolean {
  return s.kind === 'Pod' || (s.kind !== null && isWorkloadKind(s.kind));
}

/** The free text of an event (core/v1's message and reason, events.k8s.io/v1's note and action). */
function eventText(ev: unknown): string {
  return isObj(ev) ? ['message', 'reason', 'note', 'action'].flatMap((k) => (typeof ev[k] === 'string' ? [ev[k]] : [])).join('\n') : '';
}

/**
 * The refusal of an event about a pod or a pod template (`f`, allowed by its labels) whose text
 * names one of its containers the call does not reach (`Container vault-agent was using 512Mi`,
 * a ReplicaSet's FailedCreate quoting its template), as a pod's status message is withheld
 * (container-traces.ts); null when it names none. The object's containers unknown (gone, of
 * another uid, no readable template): judged as any container (fail closed).
 */
function namesWithheld(ev: unknown, f: KubeFacts, containers: string[] | null, judge: Judge): ItemJudgement | null {
  const refused = (j: ItemJudgement): ItemJudgement | null => (j.allowed ? null : j);
  if (containers === null) return refused(judge({ ...f, container: ANY_CONTAINER, alsoReaches: null }));
  const text = eventText(ev);
  for (const c of containers) {
    const j = names(text, new Set([c])) ? refused(judge({ ...f, container: c })) : null;
    if (j) return j;
  }
  return null;
}

/** Does the subject of `ev` show pods, and their containers, Warden cannot name (unknownFacts)? */
function showsUnnamed(ev: unknown, s: Subject): boolean {
  if (s.kind === null || s.name === null) return true;
  return s.kind === 'Node' ? !aboutNodeItself(ev) : !isRead(s.kind);
}

/**
 * The facts of the call, narrowed to one event about one subject (labels from its kind's
 * index); null when the subject shows no pod (the event follows the call's decision for it).
 */
function factsFor(call: KubeFacts, ev: unknown, s: Subject, indexes: Map<string, Index>): KubeFacts | null {
  const e = eventName(ev, call.namespace);
  if (s.kind === null || s.name === null) return anyPodFacts(call, `the unnamed object of event ${e.namespace}/${e.name}`, s.namespace);
  const obj = `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
  if (s.kind === 'Node') return aboutNodeItself(ev) ? null : unknownFacts(call, `event ${e.namespace}/${e.name} about ${obj}`, e.namespace);
  if (!isRead(s.kind)) return unknownFacts(call, `event ${e.namespace}/${e.name} about ${obj}`, s.namespace);
  // Only the object with the uid the event names is the one it is about: by name alone, a
  // deleted pod's events would be judged by whichever pod now has its name.
  const found = indexes.get(s.kind)?.get(`${s.namespace}/${s.name}`);
  const same = found !== undefined && s.uid !== null && found.uid === s.uid ? found : undefined;
  const note = s.uid === null ? ' (no uid)' : found && !same ? ` (uid ${s.uid})` : '';
  if (isSelectorKind(s.kind)) {
    if (same?.selectsNoPods) return null;
    return selectorFacts(call, `the pods selected by ${obj}${note}`, same ? same.labels : null, s.namespace);
  }
  if (s.kind !== 'Pod') return templateFacts(call, s.kind, s.namespace, s.name, same ? same.labels : null, note);
  return itemFacts(call, `pod ${s.namespace}/${s.name}${note}`, same ? same.labels : null, same ? same.uid : null, s.namespace);
}

/** Read every kind the events name that is judged by its objects: pods, workloads' pod templates, selectors. */
async function readIndexes(kinds: Set<string>, call: KubeFacts, ctx: ExecContext, c: KubeConnector, seen?: PodsSeen): Promise<Map<string, Index>> {
  const read = async (kind: string): Promise<Index> => {
    if (kind === 'Pod') {
      const pods = await c.listPods(call.namespace, ctx.signal);
      if (seen) seen.pods = { namespace: call.namespace, pods };
      return pods;
    }
    if (isSelectorKind(kind)) return readSelectors(c, kind, call.namespace, ctx.signal);
    return readTemplates(c, kind, call.namespace, ctx.signal);
  };
  return new Map(await Promise.all([...kinds].map(async (k): Promise<[string, Index]> => [k, await read(k)])));
}

/** Judge each event; the refusal of the first subject refused, or null when the event may be shown. */
async function judgeEvents(events: unknown[], call: KubeFacts, ctx: ExecContext, c: KubeConnector, seen?: PodsSeen): Promise<(ItemJudgement | null)[]> {
  const judge: Judge = judgeOf(ctx, 'events');
  const about = events.map((ev) => subjectsOf(ev, call.namespace));
  // A subject is open when the call is allowed for pods of unknown labels in its namespace (a
  // `related` object may be of another) with its container: it follows the call's decision,
  // and nothing is read for it. A Node's ('') is the call's. One that shows pods Warden cannot
  // name (showsUnnamed) without naming a container is open only when any container is reached.
  const open = new Map<string, boolean>();
  const isOpen = (ev: unknown, s: Subject): boolean => {
    const namespace = s.namespace || call.namespace;
    const any = s.container === null && (showsUnnamed(ev, s) || carriesContainers(s));
    const key = `${namespace ?? ''}/${any ? '*' : (s.container ?? '')}`;
    let v = open.get(key);
    if (v === undefined) {
      const f = { ...call, namespace, container: s.container ?? call.container };
      open.set(key, (v = any ? allowedForAnyPods(f, judge) : allowedForAnyLabels(f, judge)));
    }
    return v;
  };
  if (about.every((ss, i) => ss.every((s) => isOpen(events[i], s)))) return events.map(() => null);
  const kinds = new Set(about.flatMap((ss, i) => ss.flatMap((s) => (!isOpen(events[i], s) && s.kind !== null && s.name !== null && isRead(s.kind) ? [s.kind] : []))));
  const indexes = await readIndexes(kinds, call, ctx, c, seen);
  return events.map((ev, i) => {
    for (const s of about[i]!) {
      if (isOpen(ev, s)) continue;
      const f = factsFor(call, ev, s, indexes) ?? (s.container !== null ? call : null);
      const j = f === null ? null : judge(s.container !== null ? { ...f, container: s.container } : f);
      if (j && !j.allowed) return j;
      if (f === null || s.container !== null || !carriesContainers(s)) continue;
      const found = indexes.get(s.kind!)?.get(`${s.namespace}/${s.name}`);
      const same = found !== undefined && s.uid !== null && found.uid === s.uid ? found : undefined;
      const named = namesWithheld(ev, f, same ? (same.reach?.all ?? same.containers ?? null) : null, judge);
      if (named) return named;
    }
    return null;
  });
}

/**
 * Keep the events of an answer (a list, or one named event) that this caller may see. A named
 * event it may not see is refused (WARDEN_DENIED, with the refusing rules, in the words of an absent one); a
 * list loses those events, and a note says how many (never which pods).
 */
export function scopeEvents(answer: unknown, call: KubeFacts, ctx: ExecContext, c: KubeConnector, seen?: PodsSeen): Promise<{ answer: unknown; notes: string[] }> {
  return keepAllowed(answer, call, (events) => judgeEvents(events, call, ctx, c, seen), {
    withheld: (n) => `${n} event${n === 1 ? '' : 's'} about pods, or objects showing pods, outside what this principal may read ${n === 1 ? 'was' : 'were'} withheld`,
  });
}
