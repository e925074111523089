/**
 * One walk over any value a tool can return (JSON from a driver or an API, byte arrays, numbers),
 * masking every text in it: strings, object keys, the text of bytes, numbers long enough to be a
 * card, and what an object's toJSON serialises to. Inputs are never mutated; arrays and objects
 * are copied only where something changed. What cannot be walked is replaced, never passed on.
 */
import { bytesText, toByteaHex } from './bytes.js';
import type { HitCounts } from './detectors.js';

/** Masks one text, adding to `hits`; returns `text` itself when nothing matched (Scanner.maskInto). */
export type MaskText = (text: string, hits: HitCounts) => string;

/** Nesting deeper than this is replaced wholesale: a cycle or a bomb must not escape unmasked. */
export const MAX_DEPTH = 64;
// What replaces a value nested deeper than MAX_DEPTH; counted in the report as `too_deep`.
const TOO_DEEP = '[REDACTED]';
// Numbers from here up are scanned as their text; why: the shortest card number has 13 digits.
const LONG_NUMBER = 1e12;

type ToJson = { toJSON: (key: string) => unknown };

function hasToJson(v: object): v is ToJson {
  return typeof (v as Partial<ToJson>).toJSON === 'function';
}

/**
 * Masks `v` and everything inside it; returns `v` itself when nothing changed. Why one walker:
 * the mask stage, scanTable and scanValue must agree on what is text (keys, bytes, bigints).
 */
export function maskAny(v: unknown, maskText: MaskText, hits: HitCounts, depth = 0): unknown {
  switch (typeof v) {
    case 'string':
      return maskText(v, hits);
    case 'number': {
      // A float8 or a JSON number holds a 16-digit card exactly: scanned as its text.
      if (!(Math.abs(v) >= LONG_NUMBER) || !Number.isFinite(v)) return v;
      const s = String(v);
      const out = maskText(s, hits);
      return out === s ? v : out;
    }
    case 'bigint': {
      const s = v.toString();
      const out = maskText(s, hits);
      return out === s ? v : out;
    }
    case 'object':
      break;
    default:
      return v; // booleans, undefined, symbols and functions carry no text into JSON
  }
  if (v === null) return v;
  if (v instanceof Date) return v; // rendered as its ISO text, which holds nothing to find
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    const text = bytesText(v);
    const out = maskText(text, hits);
    return out === text ? v : toByteaHex(out);
  }
  if (depth >= MAX_DEPTH) {
    hits.too_deep = (hits.too_deep ?? 0) + 1;
    return TOO_DEEP;
  }
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const out = maskAny(item, maskText, hits, depth + 1);
      if (out !== item) {
        copy ??= v.slice();
        copy[i] = out;
      }
    }
    return copy ?? v;
  }
  // An object that serialises itself is masked as what it serialises to (the text that leaves).
  if (hasToJson(v)) {
    // The serialised value goes on, not `v`: a second toJSON call could answer differently.
    return maskAny(v.toJSON(''), maskText, hits, depth + 1);
  }
  // Plain objects and any other object (a driver's custom type): own enumerable keys, the keys
  // scanned too (an email or a token used as a map key is still one); a changed object comes
  // back as a plain object.
  const obj = v as Record<string, unknown>;
  let changed = false;
  let keysChanged = false;
  const entries: [string, unknown][] = [];
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    const outKey = maskText(key, hits);
    const out = maskAny(item, maskText, hits, depth + 1);
    entries.push([outKey, out]);
    if (outKey !== key) keysChanged = true;
    if (outKey !== key || out !== item) changed = true;
  }
  if (!changed) return v;
  if (keysChanged) distinctKeys(entries);
  // fromEntries defines own data properties, so a "__proto__" key stays a plain key.
  return Object.fromEntries(entries);
}

/** Two keys masked alike ("[email]") stay two entries: the later ones get "#2", "#3", ... */
function distinctKeys(entries: [string, unknown][]): void {
  const used = new Set<string>();
  for (const e of entries) {
    let k = e[0];
    for (let i = 2; used.has(k); i++) k = `${e[0]}#${i}`;
    used.add(k);
    e[0] = k;
  }
}
