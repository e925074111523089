/**
 * Make API objects compact and safe for an agent: managedFields and the last-applied
 * annotation (which holds a Secret's data in clear) are dropped; Secret `data` and
 * `stringData` values are masked unless the call asked for a key that a rule reveals.
 * Content detectors (env values, configmap data) run later, in the pipeline's mask stage.
 */

/** The mask put in place of a secret value. */
export const SECRET_MASK = '***';

const DROP_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

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

function maskSecret(o: Obj, reveal: ReadonlySet<string>): Obj {
  const out: Obj = { ...o };
  for (const field of ['data', 'stringData'] as const) {
    const d = o[field];
    if (!isObj(d)) {
      if (d !== undefined) out[field] = SECRET_MASK;
      continue;
    }
    const m: Obj = {};
    for (const [k, v] of Object.entries(d)) m[k] = reveal.has(k) ? (field === 'data' ? decode(v) : v) : SECRET_MASK;
    out[field] = m;
  }
  return out;
}

/** Clean one object of a kind. */
export function cleanObject(kind: string, o: unknown, reveal: ReadonlySet<string>): unknown {
  if (!isObj(o)) return o;
  let out: Obj = { ...o, ...(o.metadata !== undefined ? { metadata: cleanMetadata(o.metadata) } : {}) };
  if (kind === 'secrets' || o.kind === 'Secret') out = maskSecret(out, reveal);
  return out;
}

/** Clean a list (or a single object) as returned by the API server. */
export function cleanAnswer(kind: string, answer: unknown, reveal: ReadonlySet<string>): { items: unknown[]; more: boolean } {
  if (isObj(answer) && Array.isArray(answer.items)) {
    const meta = isObj(answer.metadata) ? answer.metadata : {};
    return { items: answer.items.map((i) => cleanObject(kind, i, reveal)), more: typeof meta.continue === 'string' && meta.continue !== '' };
  }
  return { items: [cleanObject(kind, answer, reveal)], more: false };
}
