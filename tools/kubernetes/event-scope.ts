/**
 * Events are about objects, and an event about a pod says what that pod is doing (probe
 * failures with their output, images, restarts); an event about a workload object names the
 * pods it makes (`Created pod: db-7f9-x2x`, `create Pod pg-0 in StatefulSet pg`). A grant
 * limited by `pod_labels` must not show through events what it hides as pods. The decision
 * cannot see which objects a list of events names before they are read, so each event read is
 * judged here, through ExecContext.judge (item-scope.ts), as this same call made for the pods
 * it is about: a pod's labels, or a workload object's pod-template labels (pod-templates.ts),
 * read from the API server now. The `kubernetes:` condition (and any deny on pod labels)
 * judges it as it judges a pod.
 *
 * An event is about pods when the object it is about or its related object is a Pod or a
 * workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
 * ReplicationController). The object it is about is `involvedObject` in core/v1 and `regarding`
 * in events.k8s.io/v1 (kubectl_get reads core/v1 only, but an answer in the other shape, or
 * carrying both, is judged on every reference it holds); an event with neither, or with a
 * reference that cannot be read, counts as about pods of unknown labels (fail closed). An
 * object that no longer exists, or exists under another uid than the event names, has unknown
 * labels. Events about other objects (Services, Nodes, ...) follow the call's decision as before.
 */
import type { ExecContext, ItemJudgement } from '../../src/tool-api.js';
import type { KubeConnector } from './connector.js';
import type { KubeFacts } from './facts.js';
import { allowedForAnyLabels, itemFacts, judgeOf, keepAllowed, templateFacts, type Judge } from './item-scope.js';
import { isWorkloadKind, readTemplates } from './pod-templates.js';
import { isObj } from './objects.js';

/** An object an event names whose pods' labels matter; kind and name null when the event's object cannot be read. */
interface Subject {
  kind: string | null;
  namespace: string;
  name: string | null;
  uid: string | null;
}

/** The labels and uid of the objects of one kind, keyed `namespace/name`. */
type Index = Map<string, { uid: string; labels: Record<string, string> | null }>;

function eventName(ev: unknown, fallbackNs: string | null): { namespace: string; name: string } {
  const m = isObj(ev) && isObj(ev.metadata) ? ev.metadata : {};
  return { namespace: typeof m.namespace === 'string' ? m.namespace : (fallbackNs ?? ''), name: typeof m.name === 'string' ? m.name : '(unnamed)' };
}

/** The fields naming the object an event is about: core/v1's, then events.k8s.io/v1's. */
const ABOUT = ['involvedObject', 'regarding'] as const;

/** The pods and workload objects an event is about (involvedObject or regarding, and related). */
function subjectsOf(ev: unknown, fallbackNs: string | null): Subject[] {
  const o = isObj(ev) ? ev : {};
  const ns = eventName(ev, fallbackNs).namespace;
  const out: Subject[] = [];
  const ref = (r: unknown) => {
    if (!isObj(r) || typeof r.kind !== 'string') return void out.push({ kind: null, namespace: ns, name: null, uid: null });
    if (r.kind !== 'Pod' && !isWorkloadKind(r.kind)) return;
    const name = typeof r.name === 'string' && r.name ? r.name : null;
    out.push({
      kind: name === null ? null : r.kind,
      namespace: typeof r.namespace === 'string' && r.namespace ? r.namespace : ns,
      name,
      uid: typeof r.uid === 'string' && r.uid ? r.uid : null,
    });
  };
  const about = ABOUT.filter((k) => o[k] !== undefined && o[k] !== null);
  if (!about.length) ref(undefined);
  for (const k of about) ref(o[k]);
  if (o.related !== undefined && o.related !== null) ref(o.related);
  return out;
}

/** The facts of the call, narrowed to one event about one subject (labels from its kind's index). */
function factsFor(call: KubeFacts, ev: unknown, s: Subject, indexes: Map<string, Index>): KubeFacts {
  if (s.kind === null || s.name === null) {
    const e = eventName(ev, call.namespace);
    return itemFacts(call, `the unnamed object of event ${e.namespace}/${e.name}`, null, null, s.namespace);
  }
  const found = indexes.get(s.kind)?.get(`${s.namespace}/${s.name}`);
  const same = found !== undefined && (s.uid === null || found.uid === s.uid) ? found : undefined;
  const note = s.uid && found && !same ? ` (uid ${s.uid})` : '';
  if (s.kind !== 'Pod') return templateFacts(call, s.kind, s.namespace, s.name, same ? same.labels : null, note);
  return itemFacts(call, `pod ${s.namespace}/${s.name}${note}`, same ? same.labels : null, same ? same.uid : null, s.namespace);
}

/** Read the labels of every kind the events name: pods, and the pod templates of workloads. */
async function readIndexes(kinds: Set<string>, call: KubeFacts, ctx: ExecContext, c: KubeConnector): Promise<Map<string, Index>> {
  const read = async (kind: string): Promise<[string, Index]> => [kind, kind === 'Pod' ? await c.listPods(call.namespace, ctx.signal) : await readTemplates(c, kind, call.namespace, ctx.signal)];
  return new Map(await Promise.all([...kinds].map(read)));
}

/** Judge each event; the refusal of the first subject refused, or null when the event may be shown. */
async function judgeEvents(events: unknown[], call: KubeFacts, ctx: ExecContext, c: KubeConnector): Promise<(ItemJudgement | null)[]> {
  const judge: Judge = judgeOf(ctx, 'events about pods');
  const about = events.map((ev) => subjectsOf(ev, call.namespace));
  if (!about.some((s) => s.length)) return events.map(() => null);
  if (allowedForAnyLabels(call, judge)) return events.map(() => null);
  const kinds = new Set(about.flat().flatMap((s) => (s.kind !== null && s.name !== null ? [s.kind] : [])));
  const indexes = await readIndexes(kinds, call, ctx, c);
  return events.map((ev, i) => {
    for (const s of about[i]!) {
      const j = judge(factsFor(call, ev, s, indexes));
      if (!j.allowed) return j;
    }
    return null;
  });
}

/**
 * Keep the events of an answer (a list, or one named event) that this caller may see. A named
 * event it may not see is refused (WARDEN_DENIED, with the rules and reason of the refusal); a
 * list loses those events, and a note says how many (never which pods).
 */
export function scopeEvents(answer: unknown, call: KubeFacts, ctx: ExecContext, c: KubeConnector): Promise<{ answer: unknown; notes: string[] }> {
  return keepAllowed(answer, (events) => judgeEvents(events, call, ctx, c), {
    refused: (j) => `event ${call.namespace ?? ''}/${call.name ?? ''} is withheld: ${j.reason}`,
    withheld: (n) => `${n} event${n === 1 ? '' : 's'} about pods outside what this principal may read ${n === 1 ? 'was' : 'were'} withheld`,
  });
}
