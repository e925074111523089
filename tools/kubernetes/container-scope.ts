/**
 * `containers:` limits what kubectl_get shows of a pod (and of a workload object's pod template)
 * as it limits kubectl_exec and kubectl_logs: each container is shown only when the policy
 * allows this same call for that container (ExecContext.judge with the container set), so a
 * grant naming `containers: [app]` shows the `app` container and withholds the others' specs
 * (image, command, args, env, mounts) and statuses, and a deny naming containers withholds
 * those. A grant without `containers:` shows every container. A note says how many were
 * withheld, never which. Annotations holding a JSON or YAML copy of the object (a deploy
 * tool's copy of the manifest) would show them again: withheld too when any container is. An
 * ephemeral container is withheld unless every container whose processes it shares is shown
 * too (its target, the others targeting the same; keepEntry), and what else
 * names a withheld container (volumes only it mounts, annotations, condition messages, an
 * eviction message) is withheld too (container-traces.ts).
 */
import type { ExecContext } from '../../src/tool-api.js';
import type { KubeFacts } from './facts.js';
import { judgeOf } from './item-scope.js';
import { isObj, type Obj } from './objects.js';
import { TEMPLATE_KINDS } from './pod-templates.js';
import { reachOf, sharesProcessesWith, type ContainerReach } from './container-reach.js';
import { SPEC_LISTS, scopeAnnotations, scopeStatusText, scopeVolumes } from './container-traces.js';

const STATUS_LISTS = ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses'] as const;

/**
 * An annotation value that may copy the object (JSON, or YAML that looks like a manifest). A
 * line's indentation is read without line breaks: `^\s*` under the m flag is quadratic in blank lines (clean.ts).
 */
const MANIFEST_COPY = /^[^\S\r\n\u2028\u2029]*(?:[[{]|(apiVersion|kind|spec|containers)\s*:)/m;

/** Does kubectl_get judge the containers of this kind? */
function showsContainers(call: KubeFacts): boolean {
  return call.kind === 'pods' || TEMPLATE_KINDS.has(call.kind);
}

/** The named entries of `list` that `keep` keeps, and those it drops (entries without a name are dropped). */
function filterNamed(list: unknown, keep: (c: Obj & { name: string }) => boolean): { kept: unknown[]; dropped: unknown[] } {
  if (!Array.isArray(list)) return { kept: [], dropped: [] };
  const kept = list.filter((c) => isObj(c) && typeof c.name === 'string' && keep(c as Obj & { name: string }));
  return { kept, dropped: list.filter((c) => !kept.includes(c)) };
}

/**
 * An ephemeral container is shown when it is, and so is every container whose processes it
 * shares (its target, the others targeting the same one, a chain followed both ways; every
 * container under shareProcessNamespace): what kubectl_exec into it is judged as reaching
 * (container-reach.ts). A container it targets stays shown by its own verdict: its entry says
 * nothing of the ephemeral containers targeting it.
 */
function keepEntry(k: (typeof SPEC_LISTS)[number], keep: (name: string) => boolean, reach: ContainerReach): (c: Obj & { name: string }) => boolean {
  if (k !== 'ephemeralContainers') return (c) => keep(c.name);
  return (c) => keep(c.name) && (typeof c.targetContainerName !== 'string' || keep(c.targetContainerName)) && sharesProcessesWith(reach, c.name).every(keep);
}

/** The object's annotations (at `meta`) without copies of the object and those naming a hidden container. */
function scopeMeta(meta: unknown, hidden: ReadonlySet<string>): unknown {
  if (!isObj(meta) || !isObj(meta.annotations)) return meta;
  const a = Object.fromEntries(Object.entries(meta.annotations).filter(([, v]) => typeof v !== 'string' || !MANIFEST_COPY.test(v)));
  return { ...meta, annotations: scopeAnnotations(a, hidden) };
}

/** The object with its pod spec's (and pod status') other containers withheld; how many. */
function scopeObject(o: unknown, pod: boolean, keep: (name: string) => boolean): { obj: unknown; dropped: number } {
  if (!isObj(o)) return { obj: o, dropped: 0 };
  const tpl = !pod && isObj(o.spec) && isObj(o.spec.template) ? o.spec.template : null;
  const spec = pod ? o.spec : tpl?.spec;
  if (!isObj(spec)) return { obj: o, dropped: 0 };
  const dropped: unknown[] = [];
  const newSpec: Obj = { ...spec };
  const reach = reachOf(spec);
  for (const k of SPEC_LISTS) {
    if (spec[k] === undefined) continue;
    const r = filterNamed(spec[k], keepEntry(k, keep, reach));
    dropped.push(...r.dropped);
    if (r.kept.length || k === 'containers') newSpec[k] = r.kept;
    else delete newSpec[k];
  }
  if (dropped.length === 0) return { obj: o, dropped: 0 };
  const hidden = new Set(dropped.flatMap((c) => (isObj(c) && typeof c.name === 'string' ? [c.name] : [])));
  scopeVolumes(newSpec, dropped);
  const out: Obj = pod ? { ...o, spec: newSpec } : { ...o, spec: { ...(o.spec as Obj), template: { ...tpl, ...(tpl?.metadata !== undefined ? { metadata: scopeMeta(tpl.metadata, hidden) } : {}), spec: newSpec } } };
  if (pod && isObj(o.status)) {
    const status: Obj = { ...o.status };
    for (const k of STATUS_LISTS) if (status[k] !== undefined) status[k] = filterNamed(status[k], (c) => keep(c.name) && !hidden.has(c.name)).kept;
    scopeStatusText(status, hidden);
    out.status = status;
  }
  if (isObj(o.metadata)) out.metadata = scopeMeta(o.metadata, hidden);
  return { obj: out, dropped: dropped.length };
}

/**
 * Withhold the containers of the pods (or pod templates) of an answer that the policy does not
 * allow this call to show; a note counts them.
 */
export function scopeContainers(answer: unknown, call: KubeFacts, ctx: ExecContext): { answer: unknown; notes: string[] } {
  if (!showsContainers(call)) return { answer, notes: [] };
  const judge = judgeOf(ctx, 'containers');
  const verdicts = new Map<string, boolean>();
  const keep = (name: string): boolean => {
    let v = verdicts.get(name);
    if (v === undefined) verdicts.set(name, (v = judge({ ...call, container: name }).allowed));
    return v;
  };
  const pod = call.kind === 'pods';
  const list = isObj(answer) && Array.isArray(answer.items) ? answer.items : null;
  const scoped = (list ?? [answer]).map((o) => scopeObject(o, pod, keep));
  const dropped = scoped.reduce((n, s) => n + s.dropped, 0);
  const out = list === null ? scoped[0]!.obj : { ...(answer as Obj), items: scoped.map((s) => s.obj) };
  if (!dropped) return { answer: out, notes: [] };
  const noun = pod ? 'pod' : `${call.kind.replace(/s$/, '')} pod template`;
  const where = list === null ? `${noun} ${call.namespace ? `${call.namespace}/` : ''}${call.name ?? ''}` : `${scoped.filter((s) => s.dropped).length} ${noun}s`;
  const n = `${dropped} container${dropped === 1 ? '' : 's'}`;
  return { answer: out, notes: [`${n} of ${where} ${dropped === 1 ? 'lies' : 'lie'} outside the containers this grant reaches and ${dropped === 1 ? 'was' : 'were'} withheld (with their statuses and any annotation copying the object)`] };
}
