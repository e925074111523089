/**
 * Events are about objects, and an event about a pod says what that pod is doing (probe
 * failures with their output, images, restarts). A grant limited by `pod_labels` must not show
 * through events what it hides as pods. The decision cannot see which pods a list of events
 * names before they are read, so each event read is judged here, through ExecContext.judge, as
 * this same call made for the pod it is about, with that pod's labels read from the API server
 * now: the `kubernetes:` condition (and any deny on pod labels) judges it as it judges a pod.
 *
 * An event is about a pod when its involvedObject or its related object is a Pod; one whose
 * involvedObject cannot be read counts as about a pod of unknown labels (fail closed). A pod
 * that no longer exists, or exists under another uid than the event names, has unknown labels.
 * Events about other objects (Deployments, Nodes, ...) follow the call's decision as before.
 */
import { ErrorCode, WardenError, type ExecContext, type ItemJudgement } from '../../src/tool-api.js';
import type { KubeConnector, PodInfo } from './connector.js';
import type { KubeFacts } from './facts.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A pod an event names; name null when the event's object cannot be read. */
interface EventPod {
  namespace: string;
  name: string | null;
  uid: string | null;
}

function eventName(ev: unknown, fallbackNs: string | null): { namespace: string; name: string } {
  const m = isObj(ev) && isObj(ev.metadata) ? ev.metadata : {};
  return { namespace: typeof m.namespace === 'string' ? m.namespace : (fallbackNs ?? ''), name: typeof m.name === 'string' ? m.name : '(unnamed)' };
}

/** The pods an event is about (involvedObject, related). */
function podsOf(ev: unknown, fallbackNs: string | null): EventPod[] {
  const o = isObj(ev) ? ev : {};
  const ns = eventName(ev, fallbackNs).namespace;
  const out: EventPod[] = [];
  const ref = (r: unknown) => {
    if (!isObj(r) || typeof r.kind !== 'string') return void out.push({ namespace: ns, name: null, uid: null });
    if (r.kind !== 'Pod') return;
    out.push({
      namespace: typeof r.namespace === 'string' && r.namespace ? r.namespace : ns,
      name: typeof r.name === 'string' && r.name ? r.name : null,
      uid: typeof r.uid === 'string' && r.uid ? r.uid : null,
    });
  };
  ref(o.involvedObject);
  if (o.related !== undefined && o.related !== null) ref(o.related);
  return out;
}

/** The facts of the call, narrowed to one event about one pod (labels from `pods`, null: unknown). */
function factsFor(call: KubeFacts, ev: unknown, p: EventPod, pods: Map<string, PodInfo> | null): KubeFacts {
  const found = p.name !== null ? pods?.get(`${p.namespace}/${p.name}`) : undefined;
  const pod = found !== undefined && (p.uid === null || found.uid === p.uid) ? found : undefined;
  const e = eventName(ev, call.namespace);
  const who = p.name === null ? `the unnamed object of event ${e.namespace}/${e.name}` : `pod ${p.namespace}/${p.name}${p.uid && found && !pod ? ` (uid ${p.uid})` : ''}`;
  return {
    ...call,
    namespace: p.namespace || call.namespace,
    involvedPod: who,
    podLabels: pod ? pod.labels : null,
    podLookup: pod ? 'found' : 'not-found',
    podUid: pod ? pod.uid : null,
  };
}

/** Judge each event; the refusal of the first pod refused, or null when the event may be shown. */
async function judgeEvents(events: unknown[], call: KubeFacts, ctx: ExecContext, c: KubeConnector): Promise<(ItemJudgement | null)[]> {
  const judge = ctx.judge ? (f: KubeFacts) => ctx.judge!.call(f) : (): ItemJudgement => ({ allowed: false, reason: 'events about pods cannot be judged here', ruleIds: [] });
  const about = events.map((ev) => podsOf(ev, call.namespace));
  if (!about.some((pods) => pods.length)) return events.map(() => null);
  // A call the policy allows for a pod of unknown labels is allowed for any labels (unknown
  // labels satisfy no pod_labels allow and every pod_labels deny): nothing to read or judge.
  const unknown: KubeFacts = { ...call, involvedPod: 'a pod of unknown labels', podLabels: null, podLookup: 'not-found', podUid: null };
  const probe = judge(unknown);
  if (probe.allowed) return events.map(() => null);
  const pods = await c.listPods(call.namespace, ctx.signal);
  return events.map((ev, i) => {
    for (const p of about[i]!) {
      const j = judge(factsFor(call, ev, p, pods));
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
export async function scopeEvents(answer: unknown, call: KubeFacts, ctx: ExecContext, c: KubeConnector): Promise<{ answer: unknown; notes: string[] }> {
  const list = isObj(answer) && Array.isArray(answer.items) ? answer.items : null;
  const events = list ?? [answer];
  const verdicts = await judgeEvents(events, call, ctx, c);
  if (list === null) {
    const refused = verdicts[0];
    if (refused) throw new WardenError(ErrorCode.DENIED, `event ${call.namespace ?? ''}/${call.name ?? ''} is withheld: ${refused.reason}`, { ruleIds: refused.ruleIds });
    return { answer, notes: [] };
  }
  const kept = events.filter((_, i) => verdicts[i] === null);
  const n = events.length - kept.length;
  const notes = n ? [`${n} event${n === 1 ? '' : 's'} about pods outside what this principal may read ${n === 1 ? 'was' : 'were'} withheld`] : [];
  return { answer: { ...(answer as Obj), items: kept }, notes };
}
