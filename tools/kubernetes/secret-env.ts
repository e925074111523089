/**
 * Environment variables a pod takes from Secrets (`env[].valueFrom.secretKeyRef`,
 * `envFrom[].secretRef`) hold the Secret's values under any name the pod author chose
 * (`UPSTREAM`, `API_primary`), and `printenv UPSTREAM`, `echo $UPSTREAM` or a log line print the
 * bare value: masking by name cannot see them, while kubectl_get masks the same values in the
 * Secret. So just before kubectl_exec or kubectl_logs acts, Warden reads those Secrets (one
 * read per Secret named, only for pods that name one) and masks each value wherever it appears
 * in the output, whole or line by line for a multi-line value, written backwards (`rev`), also in its JSON-escaped and
 * shell-quoted spellings, with backslashes before its characters (`printf %q`: escaped-values.ts),
 * its base64, hex and byte numbers of any length (secret-encodings.ts; a value that is
 * not UTF-8 by its bytes), and a prefix of one where the output was cut at the byte cap;
 * kubectl_get masks them in what pods wrote (written-values.ts). Fail
 * closed: a Secret that cannot be read (403, a malformed answer, a bad name) refuses the call
 * before it acts; an absent one is skipped only when every reference to it is `optional` (the
 * kubelet sets nothing then), else refused (it was deleted after the pod started, and its value
 * is unknown). Values shorter than MIN_VALUE characters are not masked: they would mask most of
 * the output and hold no credential. Every container's references count (an exec under a shared
 * process namespace reads another container's `/proc/PID/environ`). The literal value of a
 * secret-named variable in the spec (`DB_PASSWORD: hunter2`, which kubectl_get masks) is masked
 * the same way, with no request: `printenv DB_PASSWORD` prints it without its name; and so are
 * the ConfigMap values kubectl_get masks that the environment takes (a secret-named key or
 * variable: `configMapKeyRef` under such a name, read only then; every `envFrom.configMapRef`).
 * The Secrets its volumes mount (`secret`, a `projected` volume's `secret` sources) count as
 * Secrets it takes values from: a program prints a mounted file's value as it prints a variable;
 * so do the ConfigMaps they mount (`configMap`, `projected` sources: every one read, its values
 * that kubectl_get masks masked, a key judged by its file name too), but the cluster CA
 * (secret-mounts.ts configMapVolumeRefs).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { KubeConnector } from './connector.js';
import { dnsSubdomain } from './names.js';
import { isObj } from './objects.js';
import { SECRET_MASK } from '../shared/secret-text.js';
import { secretName, secretValue } from '../shared/secret-names.js';
import { secretInValue } from './configmap-values.js';
import { encodedMasker, type Cut, type EncodedMasker, type SecretValue } from './secret-encodings.js';
import { maskEscaped } from './escaped-values.js';
import { configMapVolumeRefs, secretVolumeRefs } from './secret-mounts.js';

export type { SecretValue };

/** One Secret (or ConfigMap) the pod's environment takes values from. */
export interface SecretEnvRef {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  /** The keys taken; null: every key (`envFrom`). */
  keys: string[] | null;
  /** Every reference to it is `optional: true`. */
  optional: boolean;
  /** ConfigMaps: the variable names each key is taken under (`envFrom` prefixes apply to every key). */
  envNames: Record<string, string[]>;
  prefixes: string[];
}

/** Shorter values are left alone (see the module comment). */
export const MIN_VALUE = 4;

const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Bytes one Secret read may take: a Secret holds at most 1 MiB of data (base64 and metadata on top). */
const SECRET_READ_CAP = 4 * 1024 * 1024;

/** What a pod's environment holds that kubectl_get masks: Secrets it takes values from, and literal values of secret-named variables. */
export interface SecretEnv {
  refs: SecretEnvRef[];
  /** `env[].value` beside a secret name (`DB_PASSWORD`), masked by kubectl_get, printed bare by `printenv DB_PASSWORD`. */
  literals: string[];
}

/**
 * The Secrets (and their keys) a pod spec's containers take environment variables from, the
 * ConfigMaps they take a secret-named variable or key from (`envFrom` any), and its
 * secret-named literal values.
 */
export function secretEnvOf(spec: unknown): SecretEnv {
  const literals: string[] = [];
  const refs = new Map<string, SecretEnvRef>();
  // A reference whose name is not a string (a malformed spec) is kept as '' and refused when read.
  const add = (kind: SecretEnvRef['kind'], name: unknown, key: string | null, optional: unknown, as: { env?: string; prefix?: string }) => {
    const n = typeof name === 'string' ? name : '';
    const r = refs.get(`${kind}/${n}`) ?? { kind, name: n, keys: [], optional: true, envNames: {}, prefixes: [] };
    if (key === null) r.keys = null;
    else if (r.keys !== null && !r.keys.includes(key)) r.keys.push(key);
    r.optional &&= optional === true;
    if (key !== null && as.env !== undefined) r.envNames[key] = [...(r.envNames[key] ?? []), as.env];
    if (as.prefix !== undefined) r.prefixes.push(as.prefix);
    refs.set(`${kind}/${n}`, r);
  };
  if (!isObj(spec)) return { refs: [], literals };
  for (const list of LISTS) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    for (const c of cs) {
      if (!isObj(c)) continue;
      for (const e of Array.isArray(c.env) ? c.env : []) {
        if (!isObj(e)) continue;
        const from = isObj(e.valueFrom) ? e.valueFrom : {};
        const env = typeof e.name === 'string' ? e.name : '';
        // A key that is not a string: every key is masked.
        const key = (r: Record<string, unknown>) => (typeof r.key === 'string' ? r.key : null);
        if (isObj(from.secretKeyRef)) add('Secret', from.secretKeyRef.name, key(from.secretKeyRef), from.secretKeyRef.optional, {});
        else if (isObj(from.configMapKeyRef)) {
          const k = key(from.configMapKeyRef);
          if (k === null || secretName(env) || secretName(k)) add('ConfigMap', from.configMapKeyRef.name, k, from.configMapKeyRef.optional, { env });
        } else if (typeof e.value === 'string' && secretValue(env, e.value)) literals.push(e.value);
      }
      for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) {
        if (!isObj(e)) continue;
        const prefix = typeof e.prefix === 'string' ? e.prefix : '';
        if (isObj(e.secretRef)) add('Secret', e.secretRef.name, null, e.secretRef.optional, {});
        if (isObj(e.configMapRef)) add('ConfigMap', e.configMapRef.name, null, e.configMapRef.optional, { prefix });
      }
    }
  }
  // Secret volumes: their values are files a program prints as it prints a variable (secret-mounts.ts).
  for (const v of secretVolumeRefs(spec)) for (const k of v.keys ?? [null]) add('Secret', v.name, k, v.optional, {});
  // ConfigMap volumes likewise, each key judged by its file name too (`items[].path`).
  for (const v of configMapVolumeRefs(spec)) for (const k of v.keys ?? [{ key: null, path: null }]) add('ConfigMap', v.name, k.key, v.optional, k.path !== null ? { env: k.path.slice(k.path.lastIndexOf('/') + 1) } : {});
  return { refs: [...refs.values()], literals };
}

function unreadable(namespace: string, ref: SecretEnvRef, why: string): WardenError {
  return new WardenError(
    ErrorCode.BACKEND,
    `the pod takes environment variables (or volume files) from ${ref.kind} ${namespace}/${ref.name.slice(0, 80)}, which Warden could not read to mask their values in the output (${why}); nothing was run or read`,
  );
}

/**
 * Would kubectl_get mask this ConfigMap value (secret-named key or variable, a Secret in it)?
 * Why only those: a ConfigMap's other values are shown by kubectl_get too.
 */
function maskedConfig(ref: SecretEnvRef, key: string, v: string): boolean {
  const names = [key, ...(ref.envNames[key] ?? []), ...ref.prefixes.map((p) => p + key)];
  return names.some((n) => secretValue(n, v)) || secretInValue(v);
}

/** The answers of the objects read during one call, by API path: each object is read once per call (kubectl_get of many pods). */
export type SecretReads = Map<string, Promise<unknown>>;

/** The values of one Secret (decoded) or ConfigMap the environment takes, per its reference. */
async function valuesOf(c: KubeConnector, namespace: string, ref: SecretEnvRef, signal?: AbortSignal, reads?: SecretReads): Promise<SecretValue[]> {
  if (!dnsSubdomain.safeParse(ref.name).success) throw unreadable(namespace, ref, 'not an object name');
  const resource = ref.kind === 'Secret' ? 'secrets' : 'configmaps';
  const path = `/api/v1/namespaces/${namespace}/${resource}/${ref.name}`;
  let answer: unknown;
  try {
    let read = reads?.get(path);
    if (read === undefined) {
      read = c.getJson(path, `read ${ref.kind} ${namespace}/${ref.name}`, { signal, maxBytes: SECRET_READ_CAP });
      // Each reader handles the failure (per its reference's `optional`); the cached copy must not go unhandled.
      read.catch(() => undefined);
      reads?.set(path, read);
    }
    answer = await read;
  } catch (e) {
    const status = e instanceof WardenError ? e.details.status : undefined;
    if (status === 404 && ref.optional) return [];
    if (e instanceof WardenError && (e.code === ErrorCode.TIMEOUT || e.code === ErrorCode.CANCELLED)) throw e;
    throw unreadable(namespace, ref, status === 404 ? 'it no longer exists, and the container may still hold its values' : status ? `the API server answered ${String(status)}` : 'the read failed');
  }
  // The kubelet takes variables from `data` only (a ConfigMap's binaryData is never one).
  if (!isObj(answer) || answer.kind !== ref.kind || (answer.data !== undefined && answer.data !== null && !isObj(answer.data))) {
    throw unreadable(namespace, ref, `the answer is not a ${ref.kind}`);
  }
  const data = isObj(answer.data) ? answer.data : {};
  const out: SecretValue[] = [];
  for (const k of ref.keys ?? Object.keys(data)) {
    const v = Object.hasOwn(data, k) ? data[k] : undefined;
    if (v === undefined) continue;
    if (typeof v !== 'string') throw unreadable(namespace, ref, 'a value is not text');
    const raw = ref.kind === 'Secret' ? Buffer.from(v, 'base64') : null;
    const text = raw ? raw.toString('utf8') : v;
    if (raw || maskedConfig(ref, k, text)) out.push(text);
    // Bytes that are not UTF-8 (a binary key): their text has U+FFFD where the output's encodings hold the bytes.
    if (raw && !Buffer.from(text, 'utf8').equals(raw)) out.push(new Uint8Array(raw));
  }
  return out;
}

/** The values to mask: those read from the objects (`sourced`), and the spec's secret-named literals. */
export interface SecretEnvValues {
  sourced: SecretValue[];
  literals: string[];
}

/**
 * The values of every object in `refs` (none: no request), and the literals. Why before acting:
 * an object Warden cannot read refuses the call before the command runs or the log is read.
 * Why two lists: a read value is masked before names are (its name is any), a literal after
 * them, so `DB_PASSWORD=...` in `env` output is still masked, and told, as beside its name.
 */
export async function secretEnvValues(c: KubeConnector, namespace: string, env: SecretEnv, signal?: AbortSignal, reads?: SecretReads): Promise<SecretEnvValues> {
  const all = await Promise.all(env.refs.map((r) => valuesOf(c, namespace, r, signal, reads)));
  return { sourced: all.flat(), literals: env.literals };
}

/** The spellings of a value to look for: whole, each line, backwards, JSON-escaped and shell-quoted; longest first. */
export function valueForms(values: readonly string[]): string[] {
  const forms = new Set<string>();
  // A value's lines are masked one by one (the whole would change the output's line count).
  const add = (s: string) => {
    if (s.length >= MIN_VALUE && !/[\r\n]/.test(s)) forms.add(s);
  };
  for (const v of values) {
    for (const part of [v, ...v.split(/\r?\n/).map((l) => l.trim()), v.trim()]) {
      add(part);
      // Written backwards (`rev`, line by line; by characters, not bytes).
      add([...part].reverse().join(''));
      add(JSON.stringify(part).slice(1, -1));
      add(part.replace(/["\\$`]/g, '\\$&'));
      add(part.replace(/'/g, `'\\''`));
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * The length of the longest proper prefix of `f` that `text` ends with. Why an automaton (KMP):
 * linear in the value and the tail, where comparing every candidate length was quadratic in a
 * long value.
 */
function prefixAtEnd(text: string, f: string): number {
  const fail = new Int32Array(f.length);
  for (let i = 1, k = 0; i < f.length; i++) {
    while (k > 0 && f[i] !== f[k]) k = fail[k - 1]!;
    if (f[i] === f[k]) k++;
    fail[i] = k;
  }
  let k = 0;
  for (let i = Math.max(0, text.length - f.length + 1); i < text.length; i++) {
    if (k === f.length) k = fail[k - 1]!;
    while (k > 0 && text[i] !== f[k]) k = fail[k - 1]!;
    if (text[i] === f[k]) k++;
  }
  return k === f.length ? fail[k - 1]! : k;
}

/** Mask every form in one text; at a cut end, also a trailing prefix of one (U+FFFD of a split character included). */
function maskText(text: string, forms: readonly string[], encoded: EncodedMasker | null, cut: Cut, count: { n: number }): string {
  let out = text;
  for (const f of forms) {
    if (!out.includes(f)) continue;
    const parts = out.split(f);
    count.n += parts.length - 1;
    out = parts.join(SECRET_MASK);
  }
  // Then each with backslashes before some of its characters (`printf %q`: escaped-values.ts).
  out = maskEscaped(out, forms, SECRET_MASK, count);
  // Then its base64 and hex spellings (secret-encodings.ts), a cut end's prefix (a cut start's suffix) of one too.
  if (encoded) out = encoded(out, SECRET_MASK, cut, count);
  if (!cut.end) return out;
  const end = out.replace(/\uFFFD+$/, '');
  let longest = 0;
  for (const f of forms) longest = Math.max(longest, prefixAtEnd(end, f));
  if (longest === 0) return out;
  count.n++;
  return end.slice(0, end.length - longest) + SECRET_MASK;
}

/**
 * Mask the values in each stream. `cut`: the output was cut at the byte cap, so a stream may
 * end inside a value. `cutStart`: the text begins where something was left out (a log window), so
 * it may begin inside an encoded value (its suffix masked). Why here and not by name: see the module comment.
 */
export function maskSecretValues<S extends Record<string, string>>(streams: S, values: readonly SecretValue[], cut: boolean, cutStart = false): { streams: S; masked: number } {
  return secretValueMasker(values)(streams, cut, cutStart);
}

/**
 * maskSecretValues with the values' forms and encoded masker built once, for many texts masked
 * with the same values (kubectl_get's events about one pod: written-values.ts).
 */
export function secretValueMasker(values: readonly SecretValue[]): <S extends Record<string, string>>(streams: S, cut: boolean, cutStart?: boolean) => { streams: S; masked: number } {
  if (values.length === 0) return (streams) => ({ streams, masked: 0 });
  const forms = valueForms(values.filter((v): v is string => typeof v === 'string'));
  const encoded = encodedMasker(values, MIN_VALUE);
  return <S extends Record<string, string>>(streams: S, cutEnd: boolean, cutStart = false) => {
    const count = { n: 0 };
    const cut: Cut = { start: cutStart, end: cutEnd };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(streams)) out[k] = forms.length || encoded ? maskText(v, forms, encoded, cut, count) : v;
    return { streams: out as S, masked: count.n };
  };
}

/** The note that tells the agent values were masked (null when none). */
export function secretEnvNote(masked: number): string | null {
  if (masked === 0) return null;
  return `${masked} value${masked === 1 ? '' : 's'} of the pod's secret environment variables (taken from Secrets, or secret-named in its spec) masked as ${SECRET_MASK}`;
}
