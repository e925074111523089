/**
 * What else of a pod (or a pod template) names a container container-scope.ts withholds, and
 * so tells that it exists: the volumes only it mounts, the annotations naming it
 * (`kubectl.kubernetes.io/default-container`, `container.apparmor.security.beta.kubernetes.io/NAME`,
 * `container.seccomp.security.alpha.kubernetes.io/NAME`), the pod conditions' messages
 * (`containers with unready status: [app sidecar]`) and an eviction's `status.message` and
 * `status.reason`. Each is withheld (or a bracketed list loses the name) when it names one.
 * Container names are DNS labels, so a text names one when one of its words (letters, digits
 * and `-`) is that name.
 */
import { isObj, type Obj } from './objects.js';

/** The containers' lists of a pod spec. */
export const SPEC_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Annotation keys naming a container after their prefix. */
const PER_CONTAINER = /^container\.(apparmor|seccomp)\.[a-z0-9.-]+\/(.+)$/;
const DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';

/** Does this text name one of the hidden containers (as a word of its own)? */
export function names(text: string, hidden: ReadonlySet<string>): boolean {
  return text.split(/[^A-Za-z0-9-]+/).some((w) => hidden.has(w));
}

/** The volumes (and devices) an entry of a container list uses, by name. */
function volumesOf(c: unknown): string[] {
  if (!isObj(c)) return [];
  return [c.volumeMounts, c.volumeDevices].flatMap((l) => (Array.isArray(l) ? l.flatMap((m) => (isObj(m) && typeof m.name === 'string' ? [m.name] : [])) : []));
}

/**
 * The volumes of a spec (already without the withheld containers) that only withheld
 * containers (`dropped`) use are withheld; volumes a shown container uses, or none, stay.
 */
export function scopeVolumes(spec: Obj, dropped: unknown[]): void {
  if (!Array.isArray(spec.volumes)) return;
  const shown = new Set(SPEC_LISTS.flatMap((k) => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).flatMap(volumesOf) : [])));
  const hiddenOnly = new Set(dropped.flatMap(volumesOf).filter((v) => !shown.has(v)));
  spec.volumes = spec.volumes.filter((v) => !(isObj(v) && typeof v.name === 'string' && hiddenOnly.has(v.name)));
}

/** The annotations without those naming a hidden container. */
export function scopeAnnotations(a: Obj, hidden: ReadonlySet<string>): Obj {
  return Object.fromEntries(Object.entries(a).filter(([k, v]) => {
    if (k === DEFAULT_CONTAINER) return !(typeof v === 'string' && hidden.has(v.trim()));
    const m = PER_CONTAINER.exec(k);
    return !(m && hidden.has(m[2]!));
  }));
}

/**
 * A text without the hidden names in its bracketed lists (`[app sidecar]`); null when it still
 * names one. Each list runs from a `[` to the first `]` after it (`[` inside it is its own). Why
 * indexOf and not `/\[([^\]]*)\]/g`: that pattern reads on to the text's end from every `[`
 * with no `]` after it, quadratic in a condition message of many `[` (anyone who may patch the
 * pod's status writes one).
 */
export function scrub(text: string, hidden: ReadonlySet<string>): string | null {
  const parts: string[] = [];
  let at = 0;
  for (let open = text.indexOf('['); open >= 0; open = text.indexOf('[', at)) {
    const close = text.indexOf(']', open + 1);
    if (close < 0) break;
    const list = text.slice(open + 1, close);
    parts.push(text.slice(at, open), `[${list.split(/\s+/).filter((w) => w && !hidden.has(w)).join(' ')}]`);
    at = close + 1;
  }
  parts.push(text.slice(at));
  const out = parts.join('');
  return names(out, hidden) ? null : out;
}

/** A pod status (a copy) without the hidden names in its conditions' messages, its message and its reason. */
export function scopeStatusText(status: Obj, hidden: ReadonlySet<string>): void {
  if (Array.isArray(status.conditions)) {
    status.conditions = status.conditions.map((c) => {
      if (!isObj(c) || typeof c.message !== 'string') return c;
      const message = scrub(c.message, hidden);
      const { message: _, ...rest } = c;
      return message === null ? rest : { ...rest, message };
    });
  }
  for (const k of ['message', 'reason'] as const) if (typeof status[k] === 'string' && names(status[k], hidden)) delete status[k];
}
