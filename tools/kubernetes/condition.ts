/**
 * The `kubernetes:` policy block. Allow: the call lies entirely inside the grant (namespace,
 * pod labels read from the API server, container, kind, verb, revealed secret keys). Deny:
 * the call touches what the block names (every key given must match, like `shell:` deny).
 * Unknown pod labels never satisfy an allow and always satisfy a deny (fail closed); such a
 * deny match is `presumed`: it overrides a matching allow, but when no allow matches the call is
 * refused as "no rule allows", as a present pod outside every allow is (src/policy/engine.ts).
 * `pod_labels` judge pods, each event, and each workload object and service kubectl_get reads
 * (it judges every such item with the labels of its pod, of the pod template, or that a
 * Service's or PodDisruptionBudget's selector fixes, through ExecContext.judge, before showing
 * it; an event about another kind is pods of unknown labels, event-scope.ts); a node read under
 * them loses the fields that show its pods (node-scope.ts).
 */
import { z } from 'zod';
import type { CompiledCondition, ConditionResult, ConditionSpec, Facts } from '../../src/tool-api.js';
import { KINDS, VERBS, isKubeFacts, type KubeFacts } from './facts.js';
import { dnsLabel, isLabelKey, isLabelValue, notReached } from './names.js';
import { TEMPLATE_KINDS } from './pod-templates.js';
import { credentialTypesUsing } from './secret-types.js';

/** Schema of a `kubernetes:` block (strict: unknown keys are errors). */
export const kubernetesBlockSchema = z.strictObject({
  namespaces: z.array(dnsLabel).min(1).optional(),
  pod_labels: z
    .record(z.string().refine(isLabelKey, 'a label key'), z.string().refine(isLabelValue, 'a label value'))
    .refine((r) => Object.keys(r).length > 0, 'at least one label')
    .optional(),
  containers: z.array(dnsLabel).min(1).optional(),
  kinds: z.array(z.enum(KINDS)).min(1).optional(),
  verbs: z.array(z.enum(VERBS)).min(1).optional(),
  reveal_secret_keys: z.array(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a secret data key')).min(1).optional(),
});

/** A validated `kubernetes:` block. */
export type KubernetesBlock = z.infer<typeof kubernetesBlockSchema>;

const no = (why: string): ConditionResult => ({ matched: false, why });
const yes = (why: string): ConditionResult => ({ matched: true, why });

function where(f: KubeFacts): string {
  const obj = f.name ? `${f.kind}/${f.name}` : f.kind;
  return `${f.verb} ${f.namespace ? `${f.namespace}/` : ''}${obj}${f.container ? ` container ${f.container}` : ''}`;
}

/** How reasons name the pod the facts are about. */
function podOf(f: KubeFacts): string {
  return f.involvedPod ?? `pod ${f.namespace}/${f.name}`;
}

/**
 * Facts about pods whose labels pod_labels judge: a pod call, or one item judged by the labels
 * of its pods (an event about a pod or a workload, a workload object); the call that reads such
 * items is `not-applicable` itself.
 */
function aboutPod(f: KubeFacts): boolean {
  return f.kind === 'pods' || f.podLookup !== 'not-applicable';
}

/** Why a call of this kind is not judged by pod labels itself. */
function notAboutPod(f: KubeFacts): string {
  if (f.kind === 'events') return 'each event is judged with the labels of the pods its object shows when it is read';
  if (TEMPLATE_KINDS.has(f.kind)) return `each of the ${f.kind} is judged with the labels of its pod template when it is read`;
  if (f.kind === 'services') return 'each service is judged with the pod labels its selector fixes when it is read';
  return 'not a pod';
}

/** Facts of a call naming one pod (not an item about pods, nor a list). */
function namedPod(f: KubeFacts): boolean {
  return f.kind === 'pods' && f.name !== null && f.involvedPod === undefined;
}

function lookupWhy(f: KubeFacts): string {
  if (f.podLookup === 'not-found') return `${podOf(f)} was not found, so its labels cannot be checked`;
  if (f.podLookup === 'forbidden') return `the API server refused to read ${podOf(f)}, so its labels cannot be checked`;
  if (f.podLookup === 'unknown') return `${podOf(f)}: Warden cannot tell which pods it shows, so their labels cannot be checked`;
  return 'the pod labels are unknown';
}

/** Does a selector require every label of the grant (equality), so a list cannot reach other pods? */
function selectorImplies(f: KubeFacts, want: Record<string, string>): boolean {
  const reqs = f.labelSelector ?? [];
  return Object.entries(want).every(([k, v]) => reqs.some((r) => r.key === k && r.op === '=' && r.value === v));
}

/**
 * Is this label key's value on the pods unknown although their labels are known? A key a
 * controller sets (templates), or any key a Service's selector does not fix.
 */
function unknownKey(f: KubeFacts, k: string): boolean {
  if (f.unknownLabelKeys?.includes(k)) return true;
  return f.otherLabelsUnknown === true && f.podLabels !== null && !Object.hasOwn(f.podLabels, k);
}

function podLabelsWithin(f: KubeFacts, want: Record<string, string>): ConditionResult | null {
  if (!aboutPod(f)) return null;
  const text = Object.entries(want).map(([k, v]) => `${k}=${v}`).join(',');
  if (f.kind === 'pods' && f.verb === 'list') {
    return selectorImplies(f, want) ? null : no(`listing pods needs label_selector to include ${text}`);
  }
  // A named pod absent and one outside the grant are refused in the same words (names.ts).
  if (namedPod(f) && f.podLookup !== 'forbidden') {
    const inside = f.podLabels !== null && Object.entries(want).every(([k, v]) => f.podLabels![k] === v);
    return inside ? null : no(notReached('pods', f.namespace, f.name ?? ''));
  }
  if (f.podLabels === null) return no(lookupWhy(f));
  for (const [k, v] of Object.entries(want)) {
    if (f.unknownLabelKeys?.includes(k)) return no(`${podOf(f)}: label ${k} of its pods is set by their controller, so it cannot be checked`);
    if (unknownKey(f, k)) return no(`${podOf(f)}: the selector does not fix label ${k}, so they need not carry ${k}=${v}`);
    if (f.podLabels[k] !== v) return no(`${podOf(f)} does not carry label ${k}=${v}`);
  }
  return null;
}

/**
 * Do the other containers an exec or log call reaches lie in the grant too? The reason does not
 * name them: kubectl_get withholds a container outside the grant, name included.
 */
function reachWithin(f: KubeFacts, containers: readonly string[]): ConditionResult | null {
  if (f.alsoReaches === undefined) return null;
  if (f.alsoReaches === null) return no(`container ${f.container} is not a container of the pod, so what it reaches is unknown`);
  if (f.alsoReaches.every((c) => containers.includes(c))) return null;
  return no(`container ${f.container} shares the processes or a volume of a container outside ${containers.join(', ')} (an ephemeral container's target or one targeting it, a pod with shareProcessNamespace, or a volume both mount)`);
}

function allow(b: KubernetesBlock, f: KubeFacts): ConditionResult {
  if (b.verbs && !b.verbs.includes(f.verb)) return no(`verb ${f.verb} is not in ${b.verbs.join(', ')}`);
  const kinds: readonly string[] = b.kinds ?? KINDS.filter((k) => k !== 'secrets');
  if (!kinds.includes(f.kind)) return no(`kind ${f.kind} is not in ${kinds.join(', ')}${b.kinds ? '' : ' (secrets must be listed explicitly)'}`);
  if (b.namespaces) {
    if (f.namespace === null) return no(`${f.kind} across all namespaces or cluster-wide is outside namespaces ${b.namespaces.join(', ')}`);
    if (!b.namespaces.includes(f.namespace)) return no(`namespace ${f.namespace} is not in ${b.namespaces.join(', ')}`);
  }
  // Pod labels before containers: a pod outside the grant is refused without a word about its
  // containers (the default container of an absent pod is unknown, of a present one is not).
  if (b.pod_labels) {
    const r = podLabelsWithin(f, b.pod_labels);
    if (r) return r;
  }
  if (b.containers && f.container !== null && !b.containers.includes(f.container)) return no(`container ${f.container} is not in ${b.containers.join(', ')}`);
  if (b.containers && f.container === null && (f.verb === 'exec' || f.verb === 'logs')) return no('the container is unknown');
  if (b.containers && f.container !== null) {
    const r = reachWithin(f, b.containers);
    if (r) return r;
  }
  const reveal = new Set(b.reveal_secret_keys ?? []);
  const hidden = f.revealKeys.filter((k) => !reveal.has(k));
  if (hidden.length) return no(`revealing secret key${hidden.length > 1 ? 's' : ''} ${hidden.join(', ')} is not granted`);
  return yes(`${where(f)} lies within the grant`);
}

function deny(b: KubernetesBlock, f: KubeFacts): ConditionResult {
  const bits: string[] = [];
  if (b.verbs) {
    if (!b.verbs.includes(f.verb)) return no(`verb ${f.verb} is not denied`);
    bits.push(`verb ${f.verb}`);
  }
  if (b.kinds) {
    if (!b.kinds.includes(f.kind)) return no(`kind ${f.kind} is not denied`);
    bits.push(`kind ${f.kind}`);
  }
  if (b.namespaces) {
    // A cluster-wide or all-namespaces call touches every namespace.
    if (f.namespace !== null && !b.namespaces.includes(f.namespace)) return no(`namespace ${f.namespace} is not denied`);
    bits.push(`namespace ${f.namespace ?? '(all)'}`);
  }
  // Unknown facts (labels, container) count as a hit, but only against a matching allow (presumed).
  let presumed = false;
  if (b.containers) {
    if (f.container === null && f.verb !== 'exec' && f.verb !== 'logs') return no('no container is involved');
    // The container itself, or one it reaches (an ephemeral container's target or one
    // targeting it, a shared process namespace, a volume both mount); a container of unknown reach counts as reaching a denied one.
    const itself = f.container !== null && b.containers.includes(f.container);
    const reached = f.alsoReaches === undefined ? false : f.alsoReaches === null || f.alsoReaches.some((c) => b.containers!.includes(c));
    if (f.container !== null && !itself && !reached) return no(`container ${f.container} is not denied`);
    presumed ||= f.container === null || (!itself && f.alsoReaches === null);
    bits.push(f.container === null ? 'container (unknown)' : itself ? `container ${f.container}` : `container ${f.container} (it reaches a denied container's processes or volumes)`);
  }
  if (b.pod_labels) {
    if (!aboutPod(f)) return no(notAboutPod(f));
    const labels = f.podLabels;
    // A key the pods' controller sets has an unknown value on a template, and a key a selector
    // does not fix on the pods it selects: either counts as a hit.
    const hit = labels === null || Object.entries(b.pod_labels).every(([k, v]) => unknownKey(f, k) || labels[k] === v);
    if (!hit) return no('the pod does not carry the denied labels');
    presumed ||= labels === null || Object.entries(b.pod_labels).some(([k, v]) => labels[k] !== v);
    // A named pod absent, and one carrying the denied labels, are denied in the same words.
    bits.push(labels === null && !namedPod(f) ? 'unknown pod labels' : 'pod labels');
  }
  if (b.reveal_secret_keys) {
    const keys = f.revealKeys.filter((k) => b.reveal_secret_keys!.includes(k));
    if (!keys.length) return no('no denied secret key is revealed');
    bits.push(`secret keys ${keys.join(', ')}`);
  }
  const r = yes(bits.length ? `${bits.join(', ')} denied` : 'the rule matches every Kubernetes call');
  return presumed ? { ...r, presumed } : r;
}

/** The `kubernetes:` condition registered by the kubernetes family. */
export const kubernetesCondition: ConditionSpec = {
  key: 'kubernetes',
  families: ['kubernetes', 'kubernetes-exec'],
  schema: kubernetesBlockSchema,
  compile(raw, rule): CompiledCondition {
    const block = kubernetesBlockSchema.parse(raw);
    return (facts: Facts) => {
      if (!isKubeFacts(facts)) return no(`a kubernetes rule cannot judge ${facts.family} facts`);
      return rule.effect === 'allow' ? allow(block, facts) : deny(block, facts);
    };
  },
  describe(raw) {
    const p = kubernetesBlockSchema.safeParse(raw);
    if (!p.success) return 'kubernetes: invalid block';
    const b = p.data;
    const parts = [
      `namespaces ${b.namespaces ? b.namespaces.join(', ') : 'any'}`,
      `kinds ${(b.kinds ?? KINDS.filter((k) => k !== 'secrets')).join(', ')}`,
      b.verbs && `verbs ${b.verbs.join(', ')}`,
      b.pod_labels && `pods labelled ${Object.entries(b.pod_labels).map(([k, v]) => `${k}=${v}`).join(',')}`,
      b.containers && `containers ${b.containers.join(', ')}`,
      b.reveal_secret_keys && `reveals secret keys ${b.reveal_secret_keys.join(', ')}`,
    ].filter(Boolean);
    return `kubernetes: ${parts.join('; ')}`;
  },
  lint(raw) {
    // A key name is granted in every Secret: `token` for an app token also names the key of
    // every service-account token. Those stay masked (secret-types.ts); the admin should know
    // that the same key of any other Secret is revealed, where it is as likely a credential.
    const p = kubernetesBlockSchema.safeParse(raw);
    if (!p.success) return [];
    return (p.data.reveal_secret_keys ?? []).flatMap((k, i) => {
      const types = credentialTypesUsing(k);
      if (!types.length) return [];
      return [{
        key: ['reveal_secret_keys', i],
        message: `reveal_secret_keys names "${k}", the credential key of Secrets of type ${types.join(', ')}: Warden keeps it masked in those whatever this says, but it reveals "${k}" of every other Secret (Opaque ones included), where it is as likely a credential`,
      }];
    });
  },
};
