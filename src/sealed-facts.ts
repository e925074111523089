/**
 * Sealed facts (leaf, re-exported by tool-api.ts for the tool families): a parser's cached facts,
 * deeply frozen and marked, so that the recorder may serialise them once and keep the text.
 */

/** Values sealed by sealFacts: deeply frozen, so whatever is derived from their content may be kept. */
const SEALED = new WeakSet<object>();

/**
 * Deep-freeze facts (or any plain value) and mark them sealed. Why: a parser that caches its
 * facts hands the same object to every call; once sealed, the recorder serialises it once, not
 * on every intent (tools/postgres/analysis; src/recorder/canonical-json.ts).
 */
export function sealFacts<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) sealFacts(x);
  }
  if (v && typeof v === 'object') SEALED.add(v as object);
  return v;
}

/** Was this object sealed by sealFacts (deeply frozen)? */
export function isSealed(v: object): boolean {
  return SEALED.has(v);
}
