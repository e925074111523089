/**
 * pods/log: a container's fixture log lines with tailLines, sinceSeconds, limitBytes and
 * timestamps, as the kubelet answers them through the API server.
 */
import type { KObject, Store } from './store.js';

/**
 * Every container name of a pod: containers, initContainers and ephemeralContainers, as the
 * API server's podHasContainerWithName visits them for exec and logs.
 */
export function allContainerNames(pod: KObject): string[] {
  const spec = (pod.spec ?? {}) as Record<string, { name?: string }[] | undefined>;
  return ['containers', 'initContainers', 'ephemeralContainers'].flatMap((k) => (spec[k] ?? []).map((c) => c.name).filter((n): n is string => typeof n === 'string'));
}

/**
 * When each fixture line was written: `ageSeconds` before the first read of it, then fixed, as a
 * kubelet's line keeps its timestamp (two reads of a log name a line by the same timestamp).
 */
const written = new WeakMap<object, Date>();
function writtenAt(l: { ageSeconds: number }, now: number): Date {
  let at = written.get(l);
  if (at === undefined) written.set(l, (at = new Date(now - l.ageSeconds * 1000)));
  return at;
}

/** The log answer (200 text, or 400 with a message). */
export function podLog(store: Store, pod: KObject, q: URLSearchParams): { code: number; text: string } {
  const ns = pod.metadata.namespace!;
  const names = ((pod.spec as { containers: { name: string }[] }).containers ?? []).map((c) => c.name);
  const container = q.get('container') ?? (names.length === 1 ? names[0]! : null);
  if (container === null) return { code: 400, text: `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]` };
  if (!allContainerNames(pod).includes(container)) return { code: 400, text: `container ${container} is not valid for pod ${pod.metadata.name}` };
  // An init or ephemeral container added to the spec by a test has its fixture (logs) only if registered.
  const c = store.container(ns, pod.metadata.name, container) ?? { name: container };
  const now = Date.now();
  let lines = (c.logs ?? []).map((l) => ({ ...l, at: writtenAt(l, now) }));
  const since = Number(q.get('sinceSeconds'));
  if (since > 0) lines = lines.filter((l) => l.at.getTime() >= now - since * 1000);
  const tail = q.get('tailLines');
  if (tail !== null && Number(tail) >= 0) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
  let text = lines.map((l) => `${q.get('timestamps') === 'true' ? `${l.at.toISOString()} ` : ''}${l.line}\n`).join('');
  const limit = Number(q.get('limitBytes'));
  if (limit > 0 && Buffer.byteLength(text) > limit) text = Buffer.from(text).subarray(0, limit).toString('utf8');
  return { code: 200, text };
}
