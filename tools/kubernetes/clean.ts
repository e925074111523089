/**
 * Make API objects compact and safe for an agent: managedFields and the last-applied
 * annotation (which holds a Secret's data in clear) are dropped; Secret `data` and
 * `stringData` values are masked unless the call asked for a key that a rule reveals and the
 * Secret's type lets that key be shown (secret-types.ts: a service-account token, a registry
 * login, a TLS private key... stay masked whatever the grant says).
 * Literal values that a name marks as secret (an env var `DB_PASSWORD`, a configmap key
 * `API_TOKEN`, a container argument `--token=...`) are masked here too: the pipeline's content
 * detectors see each JSON string alone, without the name beside it, so a bare value such as
 * an AWS secret key or a plain password would pass them. Detectors still run later. So are
 * secret-named assignments inside any string (a ConfigMap's `.env` file, a `sh -c` script, a
 * termination message: shared/secret-text.ts) and copies of a manifest in another tool's annotation.
 * Whether a value beside a name is a secret is the one rule of shared/secret-names.ts, as in
 * command output: a count beside a secret word (`token_count: "12"`, `--max-tokens=4096`, an env
 * `{name: MAX_TOKENS, value: "4096"}`) is shown when it is a plain number, a real token is not.
 */

import { isObj, type Obj } from './objects.js';
import { SECRET_MASK, maskSecretText } from '../shared/secret-text.js';
import { secretName, secretValue } from '../shared/secret-names.js';
import { revealableKey } from './secret-types.js';
import { maskSecretArgv } from '../shared/secret-argv.js';
import { encodedCopy, helmReleaseConfigMap, secretInValue } from './configmap-values.js';

export { SECRET_MASK, secretName };

const DROP_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** YAML that looks like a manifest: its Secret data cannot be cleaned without reading it as one. */
// A line's indentation is blanks other than a line break: `^\s*` under the m flag rereads every
// following blank line from each line's start, quadratic in a text of blank lines (an annotation).
const YAML_MANIFEST = /^[^\S\r\n\u2028\u2029]*(apiVersion|kind|data|stringData)\s*:/m;

/**
 * One annotation value of an object that is not a Secret. Deploy tools keep a copy of the whole
 * manifest there (kapp's `kapp.k14s.io/original`, custom last-applied copies): a JSON copy is
 * cleaned like the object it copies, any other manifest-looking text is masked, and so are the
 * value of a secret-named annotation and an encoded copy (base64 or hex, gzipped or not: encodedCopy);
 * other text loses its secret-named assignments.
 */
function cleanAnnotation(key: string, v: unknown): unknown {
  if (typeof v !== 'string') return SECRET_MASK;
  if (secretValue(key, v)) return SECRET_MASK;
  // An encoded copy (base64 or hex, gzipped or not) of a manifest or of secret text (configmap-values.ts).
  if (encodedCopy(v, (text) => maskSecretText(text) !== text)) return SECRET_MASK;
  const t = v.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(cleanEmbedded(JSON.parse(v), 0));
    } catch {
      return SECRET_MASK;
    }
  }
  return YAML_MANIFEST.test(v) ? SECRET_MASK : maskSecretText(v);
}

/** A JSON copy of objects: each object with a kind (or Secret-like data) is cleaned as one. */
function cleanEmbedded(v: unknown, depth: number): unknown {
  if (depth > 16) return SECRET_MASK;
  if (Array.isArray(v)) return v.map((x) => cleanEmbedded(x, depth + 1));
  if (!isObj(v)) return typeof v === 'string' ? maskSecretText(v) : v;
  // Without a kind, data or stringData may be a Secret's: masked as one (fail closed).
  const secretLike = v.kind === 'Secret' || (typeof v.kind !== 'string' && (v.data !== undefined || v.stringData !== undefined));
  if (secretLike) return cleanObject('secrets', v, new Set());
  if (typeof v.kind === 'string' && !Array.isArray(v.items)) return cleanObject('', v, new Set());
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = cleanEmbedded(x, depth + 1);
  return out;
}

function cleanMetadata(m: unknown, secret: boolean): unknown {
  if (!isObj(m)) return m;
  const out: Obj = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'managedFields' || k === 'selfLink') continue;
    if (k === 'labels' && isObj(v)) {
      // A secret-named label (`api-token: abc123`) loses its value like a secret-named annotation and
      // like `api-token: abc123` in text (secret-text.ts), on every kind, Secrets included. Why not
      // shown: a label value is at most 63 characters, a token fits; selectors are matched on the
      // API server's objects, never on this cleaned copy. A prefix (`auth.example.com/team`) is a
      // domain, not a name.
      const l: Obj = {};
      for (const [lk, lv] of Object.entries(v)) l[lk] = secretValue(lk.slice(lk.indexOf('/') + 1), lv) ? SECRET_MASK : lv;
      out[k] = l;
      continue;
    }
    if (k === 'annotations' && isObj(v)) {
      const a: Obj = {};
      for (const [ak, av] of Object.entries(v)) if (!DROP_ANNOTATIONS.includes(ak)) a[ak] = secret ? av : cleanAnnotation(ak, av);
      if (Object.keys(a).length) out[k] = a;
      continue;
    }
    out[k] = v;
  }
  return out;
}

function decode(v: unknown): unknown {
  if (typeof v !== 'string') return SECRET_MASK;
  const b = Buffer.from(v, 'base64');
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : `base64:${v}`;
}

/** Secret annotations whose values are shown (the service-account link); every other value is masked. */
const SECRET_SAFE_ANNOTATION = /^kubernetes\.io\/service-account\.(name|uid)$/;

function maskSecret(o: Obj, reveal: ReadonlySet<string>, notes?: string[]): Obj {
  const out: Obj = { ...o };
  // Deploy tools keep a Secret's whole manifest in an annotation (kapp's `kapp.k14s.io/original`,
  // custom last-applied copies): on a Secret, an annotation value may be its data.
  const meta = out.metadata;
  const withheld = new Set<string>();
  if (isObj(meta) && isObj(meta.annotations)) {
    const a: Obj = {};
    for (const [k, v] of Object.entries(meta.annotations)) a[k] = SECRET_SAFE_ANNOTATION.test(k) ? v : SECRET_MASK;
    out.metadata = { ...meta, annotations: a };
  }
  for (const field of ['data', 'stringData'] as const) {
    const d = o[field];
    if (!isObj(d)) {
      if (d !== undefined) out[field] = SECRET_MASK;
      continue;
    }
    const m: Obj = {};
    for (const [k, v] of Object.entries(d)) {
      const show = reveal.has(k) && revealableKey(o.type, k);
      if (reveal.has(k) && !show) withheld.add(k);
      m[k] = show ? (field === 'data' ? decode(v) : v) : SECRET_MASK;
    }
    out[field] = m;
  }
  if (withheld.size && notes) {
    const name = isObj(meta) ? `${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${String(meta.name)}` : '(unnamed)';
    const type = typeof o.type === 'string' ? `of type ${o.type}` : 'without a type';
    notes.push(`secret ${name}: ${[...withheld].join(', ')} stay${withheld.size === 1 ? 's' : ''} masked; Warden never reveals ${withheld.size === 1 ? 'that key' : 'those keys'} of a Secret ${type}, whatever reveal_secret_keys grants`);
  }
  return out;
}

/**
 * A container's `command` then `args` read as one argv (the program in `command`, its flags in
 * `args`; a flag ending `command` takes its value from `args`), with secret values masked
 * (shared/secret-argv.ts: `--password hunter2`, `--token=x`, `mysqldump -pPW`); null when the
 * object has neither as a list. A word that is not a string is read as an empty one.
 */
function programArgv(v: Obj): Record<string, unknown[] | undefined> | null {
  const command = Array.isArray(v.command) ? v.command as unknown[] : [];
  const args = Array.isArray(v.args) ? v.args as unknown[] : [];
  if (!command.length && !args.length) return null;
  const all = [...command, ...args];
  const masked = maskSecretArgv(all.map((a) => (typeof a === 'string' ? a : '')));
  const out = all.map((a, i) => (typeof a === 'string' ? masked[i] : a));
  return { ...(command.length ? { command: out.slice(0, command.length) } : {}), ...(args.length ? { args: out.slice(command.length) } : {}) };
}

/**
 * Anything but metadata (pod specs and templates, status, event messages, ConfigMap data): the
 * value of a secret-named name/value pair (env, a probe's httpHeaders), the word after a secret
 * flag in args/command, and secret-named assignments inside every string (shared/secret-text.ts).
 */
function maskLiterals(v: unknown, depth = 0): unknown {
  if (depth > 64) return SECRET_MASK;
  if (typeof v === 'string') return maskSecretText(v);
  if (Array.isArray(v)) return v.map((x) => maskLiterals(x, depth + 1));
  if (!isObj(v)) return v;
  const pair = typeof v.name === 'string' && v.value !== undefined && secretValue(v.name, v.value);
  const out: Obj = {};
  const argv = programArgv(v);
  for (const [k, x0] of Object.entries(v)) {
    const x = argv?.[k] ?? x0;
    if (pair && k === 'value') {
      out[k] = SECRET_MASK;
    } else {
      out[k] = maskLiterals(x, depth + 1);
    }
  }
  return out;
}

/** A binaryData value is shown only when it is text without a secret-named assignment or a Secret (a keystore is not). */
function cleanBinary(v: unknown): unknown {
  if (typeof v !== 'string') return SECRET_MASK;
  const b = Buffer.from(v, 'base64');
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) && maskSecretText(s) === s && !secretInValue(s) ? v : SECRET_MASK;
}

/**
 * ConfigMap values under a secret-looking key, every value of a Helm release record, and values
 * holding a Secret or compressed data (configmap-values.ts).
 */
function maskConfigMap(o: Obj): Obj {
  const out: Obj = { ...o };
  const helm = helmReleaseConfigMap(o);
  for (const field of ['data', 'binaryData'] as const) {
    const d = o[field];
    if (!isObj(d)) continue;
    const m: Obj = {};
    for (const [k, v] of Object.entries(d)) {
      // binaryData is judged by its name alone: its base64 text is no count (`MTI=` is not 12).
      if (helm || (field === 'data' ? secretValue(k, v) : secretName(k)) || (typeof v === 'string' && field === 'data' && secretInValue(v))) m[k] = SECRET_MASK;
      else m[k] = field === 'binaryData' ? cleanBinary(v) : v;
    }
    out[field] = m;
  }
  return out;
}

/** Clean one object of a kind; `notes` collects what the agent should be told (granted keys kept masked). */
export function cleanObject(kind: string, o: unknown, reveal: ReadonlySet<string>, notes?: string[]): unknown {
  if (!isObj(o)) return o;
  const secret = kind === 'secrets' || o.kind === 'Secret';
  let out: Obj = { ...o, ...(o.metadata !== undefined ? { metadata: cleanMetadata(o.metadata, secret) } : {}) };
  if (secret) return maskSecret(out, reveal, notes);
  if (kind === 'configmaps' || o.kind === 'ConfigMap') out = maskConfigMap(out);
  // binaryData is base64 (judged decoded, cleanBinary): its text is not an assignment.
  for (const k of Object.keys(out)) if (!['metadata', 'apiVersion', 'kind', 'binaryData'].includes(k)) out[k] = maskLiterals(out[k]);
  return out;
}

/** Clean a list (or a single object) as returned by the API server. */
export function cleanAnswer(kind: string, answer: unknown, reveal: ReadonlySet<string>, notes?: string[]): { items: unknown[]; more: boolean } {
  if (isObj(answer) && Array.isArray(answer.items)) {
    const meta = isObj(answer.metadata) ? answer.metadata : {};
    return { items: answer.items.map((i) => cleanObject(kind, i, reveal, notes)), more: typeof meta.continue === 'string' && meta.continue !== '' };
  }
  return { items: [cleanObject(kind, answer, reveal, notes)], more: false };
}
