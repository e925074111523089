/**
 * Make API objects compact and safe for an agent: managedFields and the last-applied
 * annotation (which holds a Secret's data in clear) are dropped; Secret `data` and
 * `stringData` values are masked unless the call asked for a key that a rule reveals and the
 * Secret's type lets that key be shown (secret-types.ts: a service-account token, a registry
 * login, a TLS private key... stay masked whatever the grant says).
 * Literal values that a name marks as secret (an env var `DB_PASSWORD`, a configmap key
 * `API_TOKEN`, a container argument `--token=...`) are masked here too: the pipeline's content
 * detectors see each JSON string alone, without the name beside it, so a bare value such as
 * an AWS secret key or a plain password would pass them. Detectors still run later.
 */

import { isObj, type Obj } from './objects.js';
import { revealableKey } from './secret-types.js';

/** The mask put in place of a secret value. */
export const SECRET_MASK = '***';

const DROP_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];


function cleanMetadata(m: unknown): unknown {
  if (!isObj(m)) return m;
  const out: Obj = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'managedFields' || k === 'selfLink') continue;
    if (k === 'annotations' && isObj(v)) {
      const a: Obj = {};
      for (const [ak, av] of Object.entries(v)) if (!DROP_ANNOTATIONS.includes(ak)) a[ak] = av;
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

/** Names whose literal value is a secret (env var names, configmap keys, flag names). */
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|credential|private|api[-_]?key|access[-_]?key|auth|session|cookie|signing|encryption[-_]?key|\bpwd\b|_pwd|^pwd|dsn|conn(ection)?[-_]?str/i;

/** Is this a name whose value must not be shown? */
export function secretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `--password=x`, `-token=x`, `PASSWORD=x`: mask what follows `=` when the name is a secret one. */
function maskArg(a: unknown): unknown {
  if (typeof a !== 'string') return a;
  const m = /^(-{0,2}[A-Za-z0-9_.-]+)([=:])(.+)$/s.exec(a);
  return m && secretName(m[1]!) ? `${m[1]}${m[2]}${SECRET_MASK}` : a;
}

/** Container-like objects anywhere (pods, pod templates, ephemeral containers): mask secret env values and flags. */
function maskLiterals(v: unknown, depth = 0): unknown {
  if (depth > 64) return SECRET_MASK;
  if (Array.isArray(v)) return v.map((x) => maskLiterals(x, depth + 1));
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'env' && Array.isArray(x)) {
      out[k] = x.map((e) => (isObj(e) && typeof e.name === 'string' && e.value !== undefined && secretName(e.name) ? { ...e, value: SECRET_MASK } : maskLiterals(e, depth + 1)));
    } else if ((k === 'args' || k === 'command') && Array.isArray(x)) {
      // `--password hunter2`: the word after a bare secret flag is its value.
      out[k] = x.map((a, i) => (i > 0 && typeof x[i - 1] === 'string' && /^-{1,2}[A-Za-z0-9_.-]+$/.test(x[i - 1] as string) && secretName(x[i - 1] as string) ? SECRET_MASK : maskArg(a)));
    } else {
      out[k] = maskLiterals(x, depth + 1);
    }
  }
  return out;
}

/** ConfigMap values under a secret-looking key. */
function maskConfigMap(o: Obj): Obj {
  const out: Obj = { ...o };
  for (const field of ['data', 'binaryData'] as const) {
    const d = o[field];
    if (!isObj(d)) continue;
    const m: Obj = {};
    for (const [k, v] of Object.entries(d)) m[k] = secretName(k) ? SECRET_MASK : v;
    out[field] = m;
  }
  return out;
}

/** Clean one object of a kind; `notes` collects what the agent should be told (granted keys kept masked). */
export function cleanObject(kind: string, o: unknown, reveal: ReadonlySet<string>, notes?: string[]): unknown {
  if (!isObj(o)) return o;
  let out: Obj = { ...o, ...(o.metadata !== undefined ? { metadata: cleanMetadata(o.metadata) } : {}) };
  if (kind === 'secrets' || o.kind === 'Secret') return maskSecret(out, reveal, notes);
  if (kind === 'configmaps' || o.kind === 'ConfigMap') out = maskConfigMap(out);
  if (out.spec !== undefined) out = { ...out, spec: maskLiterals(out.spec) };
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
