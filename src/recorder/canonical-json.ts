/**
 * Canonical JSON: the one byte form of a transcript body, so that the hash chain is
 * reproducible by any implementation (SQLite now, PostgreSQL later).
 * Rules: object keys sorted by UTF-16 code units (JS default sort), recursively; no whitespace;
 * `toJSON` honoured; undefined/function/symbol members omitted (null inside arrays);
 * non-finite numbers become null. Exactly what JSON.stringify does, plus sorted keys.
 */

import { isSealed } from '../tool-api.js';

/** Canonical forms of sealed values (tool-api.ts sealFacts), computed once per value. */
const SEALED_FORMS = new WeakMap<object, string>();

/**
 * A string JSON.stringify would write as itself between quotes: no quote, backslash, control
 * character or surrogate (JSON.stringify escapes lone surrogates; a pair takes the slow path too).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON.stringify(s) for a string, the same bytes; why: a call's two records quote some sixty short
 * strings (keys, ids, timestamps, cells' names), and each JSON.stringify call costs more than the
 * check that most of them need no escaping.
 */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Why: bodies must serialise identically whatever the key order the caller used. */
export function canonicalJson(value: unknown): string {
  const out = write(value, []);
  return out ?? 'null';
}

function write(value: unknown, stack: object[]): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      // A finite number's JSON text is its String form (-0 included: both write 0).
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('a BigInt is not JSON-serialisable');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  const obj = value as object;
  // A sealed value (deeply frozen, e.g. a parser's cached facts) has one canonical form forever.
  const sealed = isSealed(obj);
  if (sealed) {
    const hit = SEALED_FORMS.get(obj);
    if (hit !== undefined) return hit;
  }
  if (stack.includes(obj)) throw new TypeError('a cyclic value is not JSON-serialisable');
  stack.push(obj);
  let s: string;
  if (Array.isArray(obj)) {
    // Result tables (arrays of rows of primitives) have no keys to sort: JSON.stringify gives
    // the same bytes, several times faster.
    s = isPrimitiveTable(obj) ? JSON.stringify(obj) : '[' + joinComma(Array.from(obj, (v) => write(v, stack) ?? 'null')) + ']';
  } else {
    const rec = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of sortedKeys(rec)) {
      const v = write(rec[k], stack);
      if (v !== undefined) parts.push(quote(k) + ':' + v);
    }
    s = '{' + joinComma(parts) + '}';
  }
  stack.pop();
  if (sealed) SEALED_FORMS.set(obj, s);
  return s;
}

/**
 * parts.join(','), without copying: a few parts are concatenated (V8 keeps the pieces and copies
 * them once, when the body is first read whole); why: `join` copied a 70 KB result at every level
 * of the body it was nested in. Many parts still use `join` (a deep chain of pieces would cost more).
 */
function joinComma(parts: string[]): string {
  if (parts.length > 16) return parts.join(',');
  let s = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) s = s + ',' + parts[i]!;
  return s;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number');
}

/** An array of primitives, or of arrays of primitives (no objects, so no keys to sort). */
function isPrimitiveTable(a: unknown[]): boolean {
  for (const v of a) {
    if (isPrimitive(v)) continue;
    if (!Array.isArray(v)) return false;
    for (const c of v) if (!isPrimitive(c)) return false;
  }
  return true;
}

/** Canonical form of each top-level member; why: columns and body share one serialisation pass. */
export function canonicalParts(obj: object): Map<string, string> {
  const parts = new Map<string, string>();
  const rec = obj as Record<string, unknown>;
  for (const k of sortedKeys(rec)) {
    const v = write(rec[k], [obj]);
    if (v !== undefined) parts.set(k, v);
  }
  return parts;
}

/** In UTF-16 code unit order (what `sort()` gives); why: most objects' keys already are, and a sort call costs more than the check. */
function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

function sortedKeys(rec: object): string[] {
  const keys = Object.keys(rec);
  return isSorted(keys) ? keys : keys.sort();
}

/** Assemble an object's canonical JSON from canonical parts; why: avoids serialising results twice. */
export function joinParts(parts: Map<string, string>): string {
  const keys = [...parts.keys()];
  if (!isSorted(keys)) keys.sort(); // canonicalParts made them sorted; a key set after may not be
  return '{' + joinComma(keys.map((k) => quote(k) + ':' + (parts.get(k) as string))) + '}';
}
