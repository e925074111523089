/**
 * kubectl_get: text a pod's own programs wrote reaches two places of its answer, a container's
 * termination message (`/dev/termination-log`, in `state.terminated.message` and
 * `lastState.terminated.message` of `containerStatuses`, `initContainerStatuses` and
 * `ephemeralContainerStatuses`) and the events about the pod (`message`, `note`: an exec probe's
 * output). A program printing `$UPSTREAM` there shows a Secret's value with no secret name
 * beside it. So those texts are masked by value as kubectl_exec and kubectl_logs mask output
 * (secret-env.ts, its base64 and hex too): with the values the pod's environment takes from
 * Secrets (and ConfigMaps) and its secret-named literals. Cost: only pods and events returned
 * (after the policy's scoping) that hold such a text are looked at; each Secret or ConfigMap
 * is read once per call, and so is each pod events name (more than POD_READS pods: one list;
 * none when the policy's scoping of the events listed them already).
 * Fail closed: an object that cannot be read, or a pod an event names that cannot be read (403),
 * refuses the call. An event about a pod that no longer exists is masked by name only (its
 * environment is unknown); one about a pod replaced under its name, with the new pod's values.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { KubeConnector, PodInfo } from './connector.js';
import type { PodsSeen } from './event-scope.js';
import { isObj, type Obj } from './objects.js';
import { SECRET_MASK } from '../shared/secret-text.js';
import { secretEnvOf, secretEnvValues, secretValueMasker, type SecretEnv, type SecretReads, type SecretValue } from './secret-env.js';

const STATUS_LISTS = ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses'] as const;
const EVENT_TEXT = ['message', 'note'] as const;
const EVENT_REFS = ['involvedObject', 'regarding', 'related'] as const;

/** Pods named by the events returned that are read one by one; more are read in one list. */
const POD_READS = 16;

/** The items of an answer (a list, or one object) and how to put changed ones back. */
function itemsOf(answer: unknown): { items: unknown[]; rebuild: (items: unknown[]) => unknown } {
  if (isObj(answer) && Array.isArray(answer.items)) return { items: answer.items, rebuild: (items) => ({ ...answer, items }) };
  return { items: [answer], rebuild: (items) => items[0] };
}

const hasText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Does a pod's status hold a termination message? */
function terminationMessages(pod: Obj): boolean {
  const status = isObj(pod.status) ? pod.status : {};
  return STATUS_LISTS.some((l) => Array.isArray(status[l]) && status[l].some((s) => isObj(s) && ['state', 'lastState'].some((k) => {
    const st = s[k];
    return isObj(st) && isObj(st.terminated) && hasText(st.terminated.message);
  })));
}

/** The values of one pod's environment (none: no read); an unreadable object refuses, told as kubectl_get's. */
async function valuesOf(c: KubeConnector, namespace: string, env: SecretEnv, reads: SecretReads, signal?: AbortSignal): Promise<SecretValue[]> {
  if (!env.refs.length) return env.literals;
  try {
    const v = await secretEnvValues(c, namespace, env, signal, reads);
    return [...v.sourced, ...v.literals];
  } catch (e) {
    if (!(e instanceof WardenError) || e.code !== ErrorCode.BACKEND) throw e;
    throw new WardenError(e.code, `${e.message.replace(/; nothing was run or read$/, '')}; kubectl_get masks them in termination messages and events about the pod, so nothing is returned`, e.details);
  }
}

/** Mask one text with a masker of the values (built once per pod); `count` adds how many were masked. */
function mask(text: string, masker: Masker, count: { n: number }): string {
  const r = masker({ t: text }, false);
  count.n += r.masked;
  return r.streams.t;
}

type Masker = ReturnType<typeof secretValueMasker>;

async function maskPods(answer: unknown, c: KubeConnector, fallbackNs: string | null, reads: SecretReads, count: { n: number }, signal?: AbortSignal): Promise<unknown> {
  const { items, rebuild } = itemsOf(answer);
  const out = await Promise.all(items.map(async (pod) => {
    if (!isObj(pod) || !terminationMessages(pod)) return pod;
    const env = secretEnvOf(pod.spec);
    const ns = isObj(pod.metadata) && hasText(pod.metadata.namespace) ? pod.metadata.namespace : (fallbackNs ?? '');
    const values = await valuesOf(c, ns, env, reads, signal);
    if (!values.length) return pod;
    const masker = secretValueMasker(values);
    const status = { ...(pod.status as Obj) };
    for (const l of STATUS_LISTS) {
      if (!Array.isArray(status[l])) continue;
      status[l] = status[l].map((s) => {
        if (!isObj(s)) return s;
        const copy: Obj = { ...s };
        for (const k of ['state', 'lastState']) {
          const st = copy[k];
          if (isObj(st) && isObj(st.terminated) && hasText(st.terminated.message)) {
            copy[k] = { ...st, terminated: { ...st.terminated, message: mask(st.terminated.message, masker, count) } };
          }
        }
        return copy;
      });
    }
    return { ...pod, status };
  }));
  return rebuild(out);
}

/** The pods (`namespace/name`) an event names, by its built-in Pod references. */
function podsOf(ev: Obj, fallbackNs: string | null): string[] {
  const ns = isObj(ev.metadata) && hasText(ev.metadata.namespace) ? ev.metadata.namespace : (fallbackNs ?? '');
  return EVENT_REFS.flatMap((k) => {
    const r = ev[k];
    if (!isObj(r) || r.kind !== 'Pod' || !hasText(r.name)) return [];
    if (r.apiVersion !== undefined && r.apiVersion !== null && r.apiVersion !== '' && r.apiVersion !== 'v1') return [];
    return [`${hasText(r.namespace) ? r.namespace : ns}/${r.name}`];
  });
}

/** The environment of each pod named: read one by one, or listed once when many. */
async function podEnvs(keys: string[], c: KubeConnector, namespace: string | null, seen: PodsSeen, signal?: AbortSignal): Promise<Map<string, SecretEnv | null>> {
  const out = new Map<string, SecretEnv | null>();
  // The pods scoping the events listed (event-scope.ts), when they hold every namespace named.
  const listed = seen.pods;
  if (listed && keys.every((k) => listed.namespace === null || k.startsWith(`${listed.namespace}/`))) {
    for (const k of keys) out.set(k, listed.pods.get(k)?.secretEnv ?? null);
    return out;
  }
  if (keys.length > POD_READS) {
    const namespaces = new Set(keys.map((k) => k.slice(0, k.indexOf('/'))));
    const all: Map<string, PodInfo> = await c.listPods(namespaces.size === 1 ? [...namespaces][0]! : namespace, signal);
    for (const k of keys) out.set(k, all.get(k)?.secretEnv ?? null);
    return out;
  }
  await Promise.all(keys.map(async (k) => {
    const [ns, name] = k.split('/') as [string, string];
    const r = await c.lookupPod(ns, name, signal);
    if (r.state === 'forbidden') {
      throw new WardenError(ErrorCode.BACKEND, `events returned are about pod ${k.slice(0, 200)}, which Warden could not read to mask the values its environment takes from Secrets in their text (the API server answered 403); nothing is returned`);
    }
    out.set(k, r.state === 'found' ? r.pod.secretEnv : null);
  }));
  return out;
}

async function maskEvents(answer: unknown, c: KubeConnector, namespace: string | null, seen: PodsSeen, reads: SecretReads, count: { n: number }, signal?: AbortSignal): Promise<unknown> {
  const { items, rebuild } = itemsOf(answer);
  const about = items.map((ev) => (isObj(ev) && EVENT_TEXT.some((k) => hasText(ev[k])) ? podsOf(ev, namespace) : []));
  const keys = [...new Set(about.flat())];
  if (!keys.length) return answer;
  const envs = await podEnvs(keys, c, namespace, seen, signal);
  const values = new Map<string, Promise<SecretValue[]>>();
  const valuesFor = (k: string): Promise<SecretValue[]> => {
    let v = values.get(k);
    const env = envs.get(k);
    if (v === undefined) values.set(k, (v = env ? valuesOf(c, k.slice(0, k.indexOf('/')), env, reads, signal) : Promise.resolve([])));
    return v;
  };
  // One masker per set of pods (its forms built once: many events are about the same pod).
  const maskers = new Map<string, Promise<Masker | null>>();
  const maskerFor = (pods: string[]): Promise<Masker | null> => {
    const key = pods.join('\n');
    let m = maskers.get(key);
    if (m === undefined) maskers.set(key, (m = Promise.all(pods.map(valuesFor)).then((v) => (v.flat().length ? secretValueMasker(v.flat()) : null))));
    return m;
  };
  const out = await Promise.all(items.map(async (ev, i) => {
    if (!isObj(ev) || !about[i]!.length) return ev;
    const masker = await maskerFor(about[i]!);
    if (masker === null) return ev;
    const copy: Obj = { ...ev };
    for (const k of EVENT_TEXT) if (hasText(copy[k])) copy[k] = mask(copy[k], masker, count);
    return copy;
  }));
  return rebuild(out);
}

/**
 * Mask the pod-written text of a kubectl_get answer (pods, events; other kinds unchanged) by the
 * values of the pods' environments; a note says how many (none: no note).
 */
export async function maskWrittenValues(kind: string, answer: unknown, c: KubeConnector, namespace: string | null, seen: PodsSeen, signal?: AbortSignal): Promise<{ answer: unknown; note: string | null }> {
  if (kind !== 'pods' && kind !== 'events') return { answer, note: null };
  const reads: SecretReads = new Map();
  const count = { n: 0 };
  const out = kind === 'pods' ? await maskPods(answer, c, namespace, reads, count, signal) : await maskEvents(answer, c, namespace, seen, reads, count, signal);
  const note = count.n === 0 ? null : `${count.n} value${count.n === 1 ? '' : 's'} of pods' secret environment variables (taken from Secrets, or secret-named in their spec) masked as ${SECRET_MASK} in ${kind === 'pods' ? 'termination messages' : 'event text'}`;
  return { answer: out, note };
}
