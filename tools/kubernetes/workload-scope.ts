/**
 * A workload object's pod template is what its pods will be: images, args, env values,
 * volumes. Under a grant limited by `pod_labels`, kubectl_get shows a workload object (of the
 * kinds it serves, TEMPLATE_KINDS) only when the policy allows this same call for pods with
 * the labels of its template, as it shows an event about a pod only for that pod's labels.
 * The object's own labels do not count: its template's do. An object without a readable
 * template counts as pods of unknown labels (outside every pod_labels allow, inside every
 * pod_labels deny). The template is in the answer itself: no other request is made.
 */
import type { ExecContext } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { allowedForAnyLabels, judgeOf, keepAllowed, templateFacts } from './item-scope.js';
import { TEMPLATE_KINDS, templateLabels } from './pod-templates.js';
import { isObj } from './objects.js';

/** Does kubectl_get judge the objects of this kind by their pod template? */
export function judgedByTemplate(call: KubeFacts): boolean {
  return TEMPLATE_KINDS.has(call.kind);
}

/**
 * Keep the workload objects of an answer (a list, or one named object) whose pods this caller
 * may read. A named one it may not is refused (WARDEN_DENIED); a list loses those objects, and
 * a note says how many (never which).
 */
export function scopeWorkloads(answer: unknown, call: KubeFacts, ctx: ExecContext): Promise<{ answer: unknown; notes: string[] }> {
  const kind = TEMPLATE_KINDS.get(call.kind) ?? call.kind;
  const noun = call.kind.replace(/s$/, '');
  return keepAllowed(answer, call, async (items) => {
    const judge = judgeOf(ctx, `${call.kind} with pod templates`);
    if (allowedForAnyLabels(call, judge)) return items.map(() => null);
    return items.map((o) => {
      const m = isObj(o) && isObj(o.metadata) ? o.metadata : {};
      const ns = typeof m.namespace === 'string' ? m.namespace : (call.namespace ?? '');
      const name = typeof m.name === 'string' ? m.name : '(unnamed)';
      const j = judge(templateFacts(call, kind, ns, name, templateLabels(kind, o)));
      return j.allowed ? null : j;
    });
  }, {
    withheld: (n) => `${n} ${n === 1 ? noun : call.kind} whose pods lie outside what this principal may read ${n === 1 ? 'was' : 'were'} withheld`,
  });
}
