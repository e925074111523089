/**
 * What kubectl_get shares between the answers it judges item by item under `pod_labels`
 * (events, by the object they are about, event-scope.ts; workload objects, workload-scope.ts;
 * services, service-scope.ts; the pod fields of nodes, node-scope.ts):
 * each item is judged, through ExecContext.judge, as this same call made for the pods the
 * item is about, with their labels. A named item that may not be shown is refused in the words
 * of an absent one (names.ts notReached); a list
 * loses those items, and a note says how many (never which).
 */
import { ErrorCode, WardenError, type ExecContext, type ItemJudgement } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { addedLabelKeys } from './pod-templates.js';
import { notReached } from './names.js';
import { isObj, type Obj } from './objects.js';

/** Judge the facts of one item. */
export type Judge = (facts: KubeFacts) => ItemJudgement;

/** The judge of the call. Why a fallback: without one nothing about pods can be shown (fail closed). */
export function judgeOf(ctx: ExecContext, what: string): Judge {
  const j = ctx.judge;
  return j ? (facts) => j.call(facts) : (): ItemJudgement => ({ allowed: false, reason: `${what} cannot be judged here`, ruleIds: [] });
}

/**
 * The facts of the call narrowed to one item about pods (`who` as reasons name them), of
 * known labels or of unknown ones (null). `unknownKeys`: label keys the pods carry with values
 * the item does not know (a template's controller-added keys).
 */
export function itemFacts(call: KubeFacts, who: string, labels: Record<string, string> | null, uid: string | null, namespace?: string, unknownKeys?: readonly string[]): KubeFacts {
  return {
    ...call,
    namespace: namespace || call.namespace,
    involvedPod: who,
    podLabels: labels,
    podLookup: labels !== null ? 'found' : 'not-found',
    podUid: uid,
    ...(labels !== null && unknownKeys?.length ? { unknownLabelKeys: [...unknownKeys] } : {}),
  };
}

/** The facts of one item about the pods of a workload object of `kind`, judged by its pod template's labels. */
export function templateFacts(call: KubeFacts, kind: string, namespace: string, name: string, labels: Record<string, string> | null, note = ''): KubeFacts {
  return itemFacts(call, `the pod template of ${kind} ${namespace ? `${namespace}/` : ''}${name}${note}`, labels, null, namespace, addedLabelKeys(kind));
}

/**
 * The facts of one item about the pods a label selector picks (`who` as reasons name them):
 * they carry the selector's labels and any others, so every other key is unknown. A selector
 * that cannot be read (null) is pods of unknown labels.
 */
export function selectorFacts(call: KubeFacts, who: string, selector: Record<string, string> | null, namespace: string): KubeFacts {
  return { ...itemFacts(call, who, selector, null, namespace), ...(selector !== null ? { otherLabelsUnknown: true } : {}) };
}

/**
 * Is the call allowed whatever labels the pods have? Why: unknown labels satisfy no pod_labels
 * allow and every pod_labels deny, so a call allowed for pods of unknown labels is allowed for
 * any, and nothing needs to be read or judged (no extra request when labels do not matter).
 */
export function allowedForAnyLabels(call: KubeFacts, judge: Judge): boolean {
  return judge(itemFacts(call, 'pods of unknown labels', null, null)).allowed;
}

/**
 * The container of an item that shows containers without saying which (a Node's images, an
 * event about a Node): not a DNS label, so no `containers:` rule names it. Judged with an
 * unknown reach (alsoReaches null), it lies outside every `containers:` allow and inside every
 * `containers:` deny (fail closed), as unknown labels do for pod_labels.
 */
export const ANY_CONTAINER = '(any container)';

/** The facts of an item that may show any container of pods of unknown labels (`who` as reasons name them). */
export function anyPodFacts(call: KubeFacts, who: string, namespace?: string): KubeFacts {
  return { ...itemFacts(call, who, null, null, namespace), container: ANY_CONTAINER, alsoReaches: null };
}

/**
 * Is the call allowed whatever labels the pods have and whichever of their containers? Why:
 * what shows every container of every pod without naming them (node-scope.ts) may be shown
 * only to a grant that reaches them all, limited neither by pod_labels nor by `containers:`.
 */
export function allowedForAnyPods(call: KubeFacts, judge: Judge): boolean {
  return judge(anyPodFacts(call, 'pods of unknown labels, any container')).allowed;
}

/** How a note reads for one kind of item. */
export interface ItemWords {
  /** The note of a list that lost `n` items. */
  withheld(n: number): string;
}

/**
 * The refusal of a named item, absent or outside the grant alike (names.ts notReached): the
 * judgement's reason is not told, as it would say which (and what labels the object's pods carry).
 */
function refusal(call: KubeFacts, j: ItemJudgement): WardenError {
  return new WardenError(ErrorCode.DENIED, notReached(call.kind, call.namespace, call.name ?? ''), { ruleIds: j.ruleIds });
}

/**
 * A named item of a kind judged item by item that the API server says does not exist (`e`,
 * its 404): refused as one outside the grant is, judged as pods of unknown labels; when the call
 * is allowed for any labels, the 404 itself (the object would be within the grant).
 */
export function absentNamed(call: KubeFacts, ctx: ExecContext, e: unknown): unknown {
  if (call.name === null || !(e instanceof WardenError) || e.details.status !== 404) return e;
  const j = judgeOf(ctx, call.kind)(itemFacts(call, 'pods of unknown labels', null, null));
  return j.allowed ? e : refusal(call, j);
}

/**
 * Keep the items of an answer (a list, or one named object) whose verdict is null. Why one
 * place: the named refusal (WARDEN_DENIED with the refusing rules) and the count-only note are
 * the same for every kind judged item by item.
 */
export async function keepAllowed(answer: unknown, call: KubeFacts, verdicts: (items: unknown[]) => Promise<(ItemJudgement | null)[]>, words: ItemWords): Promise<{ answer: unknown; notes: string[] }> {
  const list = isObj(answer) && Array.isArray(answer.items) ? answer.items : null;
  const items = list ?? [answer];
  const v = await verdicts(items);
  if (list === null) {
    const refused = v[0];
    if (refused) throw refusal(call, refused);
    return { answer, notes: [] };
  }
  const kept = items.filter((_, i) => v[i] === null);
  const n = items.length - kept.length;
  return { answer: { ...(answer as Obj), items: kept }, notes: n ? [words.withheld(n)] : [] };
}
