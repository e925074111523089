/**
 * Objects that pick pods by a label selector and are not workloads: a Service (`spec.selector`,
 * service-scope.ts) and a PodDisruptionBudget (`spec.selector`, a LabelSelector). An event
 * about one says what happens to the pods it picks (load balancers for them, evictions they
 * block), so under `pod_labels` it is judged as the object is: by the labels its selector fixes
 * (selectorFacts, item-scope.ts). This module knows where each kind lives and how to read its
 * selector; event-scope.ts reads all of a kind in one list per call.
 *
 * A PodDisruptionBudget's selector fixes the labels of `matchLabels` and of each `In`
 * expression with one value; other expressions (`NotIn`, `Exists`, `DoesNotExist`, `In` with
 * several values) only narrow the pods further and fix nothing, so their keys stay unknown
 * (outside every allow, inside every deny: a `NotIn [true]` does not rule a deny on
 * `true` out here, which withholds more than needed, never less). A budget without a selector,
 * or with one that cannot be read (an unknown operator, a value that is not a string, two
 * values for one key), is pods of unknown labels: policy/v1 reads a null selector as no pods and
 * policy/v1beta1 as every pod, and Warden does not guess which the event's reporter meant.
 */
import type { KubeConnector } from './connector.js';
import { selectsNoPods, serviceSelector } from './service-scope.js';
import { isObj } from './objects.js';

/** A selecting object as judged: its uid, the labels its selector fixes (null: unknown), and whether it picks no pod at all. */
export interface SelectorInfo {
  uid: string;
  labels: Record<string, string> | null;
  selectsNoPods: boolean;
}

/** Where a selecting kind lives and how its selector reads. */
interface SelectorKind {
  group: string;
  resource: string;
  selector(obj: unknown): Record<string, string> | null;
  none(obj: unknown): boolean;
}

/** The labels a PodDisruptionBudget's selector fixes; null when it has none or it cannot be read. `{}`: every pod. */
export function pdbSelector(pdb: unknown): Record<string, string> | null {
  const spec = isObj(pdb) && isObj(pdb.spec) ? pdb.spec : null;
  const sel = spec?.selector;
  if (!isObj(sel)) return null;
  const out: Record<string, string> = {};
  const fix = (k: unknown, v: unknown): boolean => {
    if (typeof k !== 'string' || typeof v !== 'string' || (Object.hasOwn(out, k) && out[k] !== v)) return false;
    out[k] = v;
    return true;
  };
  if (sel.matchLabels !== undefined && sel.matchLabels !== null) {
    if (!isObj(sel.matchLabels)) return null;
    for (const [k, v] of Object.entries(sel.matchLabels)) if (!fix(k, v)) return null;
  }
  if (sel.matchExpressions === undefined || sel.matchExpressions === null) return out;
  if (!Array.isArray(sel.matchExpressions)) return null;
  for (const e of sel.matchExpressions) {
    if (!isObj(e) || typeof e.key !== 'string') return null;
    const values = e.values ?? [];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) return null;
    if (e.operator === 'In' && values.length === 1) {
      if (!fix(e.key, values[0])) return null;
    } else if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator as string)) return null;
  }
  return out;
}

/** The selecting kinds, by their `kind` as an event's involvedObject names them. */
const SELECTOR_KINDS: ReadonlyMap<string, SelectorKind> = new Map([
  ['Service', { group: '/api/v1', resource: 'services', selector: serviceSelector, none: selectsNoPods }],
  ['PodDisruptionBudget', { group: '/apis/policy/v1', resource: 'poddisruptionbudgets', selector: pdbSelector, none: () => false }],
]);

/** Is this `kind` one judged by the labels its selector fixes? Why: events about it are judged by it. */
export function isSelectorKind(kind: string): boolean {
  return SELECTOR_KINDS.has(kind);
}

/**
 * Every object of a selecting kind in a namespace (null: all), keyed `namespace/name`. Why a
 * list: a page of events names many objects, read in one request per kind rather than one per
 * event. A refusal or a failure is an error (the caller refuses the call), never an empty index.
 */
export async function readSelectors(c: KubeConnector, kind: string, namespace: string | null, signal?: AbortSignal): Promise<Map<string, SelectorInfo>> {
  const k = SELECTOR_KINDS.get(kind);
  if (!k) return new Map();
  return c.listAll(k.group, k.resource, namespace, (o) => ({
    uid: isObj(o) && isObj(o.metadata) && typeof o.metadata.uid === 'string' ? o.metadata.uid : '',
    labels: k.selector(o),
    selectsNoPods: k.none(o),
  }), signal);
}
