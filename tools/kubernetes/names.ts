/**
 * Kubernetes names, validated before anything is sent. Why strict regexes: a name is spliced
 * into a URL path, so `..`, slashes, `%`, upper case or whitespace must never get that far.
 */
import { z } from 'zod';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Namespaces and containers are RFC 1123 labels (63 characters, lower case). */
export const dnsLabel = z.string().max(63).regex(LABEL, 'must be a Kubernetes DNS label (lower-case letters, digits and -, at most 63 characters)');

/** Object names (pods, services, events, ...) are RFC 1123 subdomains. */
export const dnsSubdomain = z.string().max(253).regex(SUBDOMAIN, 'must be a Kubernetes DNS subdomain name (lower-case letters, digits, - and .)');

/** A label key: optional DNS-subdomain prefix and a name. Why: keeps selectors unambiguous. */
export function isLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : null;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== null && (prefix.length > 253 || !SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

/** A label value: empty or a label name. */
export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME.test(v));
}

/** One requirement of an equality-based label selector. */
export interface LabelRequirement {
  key: string;
  op: '=' | '!=' | 'exists' | '!exists';
  value?: string;
}

/**
 * Parse an equality-based selector (`a=b,c!=d,e,!f`). Why no set-based forms: policy checks
 * must know exactly which pods a selector can reach. Returns null when it is not one.
 */
export function parseLabelSelector(sel: string): LabelRequirement[] | null {
  if (sel.trim() === '') return [];
  const out: LabelRequirement[] = [];
  for (const raw of sel.split(',')) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part))) out.push({ key: m[1]!, op: '!=', value: m[2]! });
    else if ((m = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(part))) out.push({ key: m[1]!, op: '=', value: m[2]! });
    else if ((m = /^!\s*([^=!\s]+)$/.exec(part))) out.push({ key: m[1]!, op: '!exists' });
    else if ((m = /^([^=!\s]+)$/.exec(part))) out.push({ key: m[1]!, op: 'exists' });
    else return null;
    const r = out[out.length - 1]!;
    if (!isLabelKey(r.key) || (r.value !== undefined && !isLabelValue(r.value))) return null;
  }
  return out;
}

/** Canonical selector text: what is sent is what was judged. */
export function formatLabelSelector(reqs: LabelRequirement[]): string {
  return reqs.map((r) => (r.op === 'exists' ? r.key : r.op === '!exists' ? `!${r.key}` : `${r.key}${r.op}${r.value ?? ''}`)).join(',');
}

/**
 * What an agent is told when an object it named (a pod, a deployment, a service, an event) is
 * absent or outside its grant: the same words for both. Why: a refusal that told "not found"
 * from "does not carry label ..." would tell the agent whether an object outside its grant
 * exists. `kind` is the plural kind (`pods`).
 */
export function notReached(kind: string, namespace: string | null, name: string): string {
  return `${kind.replace(/s$/, '')} ${namespace ? `${namespace}/` : ''}${name} is not among the ${kind} this grant reaches (absent, or outside the grant)`;
}
