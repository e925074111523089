/**
 * A Service routes to the pods its selector picks, and shows their ports, cluster IPs and
 * load-balancer addresses. Under a grant limited by `pod_labels`, kubectl_get shows a Service
 * only when the policy allows this same call for the pods its selector picks, as it shows a
 * workload object only for its pod template's labels (workload-scope.ts), through
 * ExecContext.judge (item-scope.ts). The selector is in the answer itself: no other request.
 *
 * What a selector says about its pods: they carry its labels, and any others. So an allow is
 * met when the selector fixes every label the grant names (`app=web` fixes `app`), and a deny
 * is hit unless the selector rules it out (a selector `app=web` may pick `quarantine=true`
 * pods: a deny on `quarantine: "true"` withholds it; `app=web,quarantine=false` cannot).
 *
 * A Service without a readable selector has its Endpoints written by hand and may route to any
 * pod: unknown labels (outside every pod_labels allow, inside every pod_labels deny). An empty
 * selector picks every pod. An ExternalName Service without a selector names a DNS name and no
 * pod: it follows the call's decision. The Service's own labels do not count.
 */
import type { ExecContext } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { allowedForAnyLabels, judgeOf, keepAllowed, selectorFacts } from './item-scope.js';
import { isObj } from './objects.js';

/**
 * The labels a Service's `spec.selector` fixes; null when it has none or it cannot be read
 * (a value that is not a string). `{}` when empty: every pod.
 */
export function serviceSelector(svc: unknown): Record<string, string> | null {
  const spec = isObj(svc) && isObj(svc.spec) ? svc.spec : null;
  if (!spec || !isObj(spec.selector)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.selector)) {
    if (typeof v !== 'string') return null;
    out[k] = v;
  }
  return out;
}

/** Does the Service route to no pod at all? Only an ExternalName one without a selector. */
export function selectsNoPods(svc: unknown): boolean {
  const spec = isObj(svc) && isObj(svc.spec) ? svc.spec : null;
  return spec !== null && spec.type === 'ExternalName' && (spec.selector === undefined || spec.selector === null);
}

/**
 * Keep the services of an answer (a list, or one named service) whose pods this caller may
 * read. A named one it may not is refused (WARDEN_DENIED); a list loses those services, and a
 * note says how many (never which).
 */
export function scopeServices(answer: unknown, call: KubeFacts, ctx: ExecContext): Promise<{ answer: unknown; notes: string[] }> {
  return keepAllowed(answer, call, async (items) => {
    const judge = judgeOf(ctx, 'services with pod selectors');
    if (allowedForAnyLabels(call, judge)) return items.map(() => null);
    return items.map((o) => {
      if (selectsNoPods(o)) return null;
      const m = isObj(o) && isObj(o.metadata) ? o.metadata : {};
      const ns = typeof m.namespace === 'string' ? m.namespace : (call.namespace ?? '');
      const name = typeof m.name === 'string' ? m.name : '(unnamed)';
      const j = judge(selectorFacts(call, `the pods selected by Service ${ns ? `${ns}/` : ''}${name}`, serviceSelector(o), ns));
      return j.allowed ? null : j;
    });
  }, {
    withheld: (n) => `${n} service${n === 1 ? '' : 's'} selecting pods outside what this principal may read ${n === 1 ? 'was' : 'were'} withheld`,
  });
}
