/**
 * ConfigMap values that are Secrets in another form, masked whole. Why: masking by name sees
 * `password: x`, not a Secret manifest kept in a ConfigMap (a GitOps bundle, a chart's
 * rendered output) whose keys are not secret-named, nor compressed data it cannot read:
 * - a Helm release record kept with `HELM_DRIVER=configmap` (labels `owner: helm`; Helm 2's
 *   `OWNER: TILLER`): its `release` is the gzipped rendered chart, the chart's Secrets included,
 *   which kubectl_get never shows from a `helm.sh/release.v1` Secret (secret-types.ts);
 * - a value that is base64 of gzip data (`H4sI...`): what it holds cannot be judged;
 * - a JSON value holding a Secret (an object of kind Secret, or with data/stringData and no kind);
 * - YAML text with a `kind: Secret` line (any document of a multi-document manifest).
 * And an annotation value (of any kind) that is an encoded copy (encodedCopy).
 */
import { isObj } from './objects.js';

/** Is this ConfigMap a Helm release record (every value masked)? */
export function helmReleaseConfigMap(o: unknown): boolean {
  const labels = isObj(o) && isObj(o.metadata) && isObj(o.metadata.labels) ? o.metadata.labels : {};
  return labels.owner === 'helm' || labels.OWNER === 'TILLER';
}

const GZIP_BASE64 = /^\s*H4sI/;
const YAML_SECRET = /^[ \t-]*kind\s*:\s*["']?Secret["']?\s*(#.*)?$/m;

function holdsSecret(v: unknown, depth: number): boolean {
  if (depth > 32) return true;
  if (Array.isArray(v)) return v.some((x) => holdsSecret(x, depth + 1));
  if (!isObj(v)) return false;
  if (v.kind === 'Secret' || (typeof v.kind !== 'string' && (v.data !== undefined || v.stringData !== undefined))) return true;
  return Object.values(v).some((x) => holdsSecret(x, depth + 1));
}

/** Does this ConfigMap data value hold a Secret (or compressed data) that must be masked whole? */
export function secretInValue(v: string): boolean {
  if (GZIP_BASE64.test(v) || YAML_SECRET.test(v)) return true;
  const t = v.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  try {
    return holdsSecret(JSON.parse(v), 0);
  } catch {
    return false;
  }
}

/** Strict base64 text long enough to hold a copy (checksums and short ids are hex or shorter). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Hex digits in pairs, either case (line breaks of `xxd -p` taken out first). */
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
/** Hex of gzip data (magic 1f 8b, deflate 08): at least a header and trailer, 18 bytes. */
const GZIP_HEX = /^1f8b08(?:[0-9a-fA-F]{2}){15}/i;

/**
 * Is this annotation value base64 or hex of gzip data, or of text holding a manifest (JSON, YAML
 * with apiVersion/kind/data/stringData keys) or what `hides` says is secret? Why masked whole:
 * deploy tools keep a copy of the object there encoded (Banzai Cloud's objectmatcher writes
 * `banzaicloud.com/last-applied` as base64 of gzipped JSON; `xxd -p` gives hex), which decodes
 * to the values the object's own fields mask, and an encoded text cannot be shown cleaned.
 */
export function encodedCopy(v: string, hides: (text: string) => boolean): boolean {
  const t = v.trim();
  if (GZIP_BASE64.test(t)) return true;
  if (t.length < 16) return false;
  const digits = t.replace(/\s+/g, '');
  // Hex digits are base64 characters too: a text of both is read both ways.
  if (HEX.test(digits) && (GZIP_HEX.test(digits) || copyText(Buffer.from(digits, 'hex'), hides))) return true;
  return BASE64.test(t) && copyText(Buffer.from(t, 'base64'), hides);
}

/**
 * Decoded bytes that are UTF-8 text holding a manifest or secret text. A line's indentation is
 * read without line breaks (`^\s*` under the m flag is quadratic in blank lines; clean.ts).
 */
function copyText(raw: Buffer, hides: (text: string) => boolean): boolean {
  const text = raw.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(raw)) return false;
  return /^\s*[[{]/.test(text) || /^[^\S\r\n\u2028\u2029]*(apiVersion|kind|data|stringData)\s*:/m.test(text) || hides(text);
}
