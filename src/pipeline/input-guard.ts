/**
 * Bounds on a call's raw arguments before anything reads them recursively. Why: arguments are
 * the agent's, and the validator, JSON and the transcript's canonical JSON all recurse: a value
 * nested 100,000 deep overflows the stack of each, and the refusal itself could not be recorded.
 */

/** Deepest nesting accepted; no tool's input comes near it. */
export const MAX_INPUT_DEPTH = 64;

/** Whether `v` nests deeper than `max` objects/arrays (iterative, so a hostile depth cannot overflow it; a cycle counts as too deep). */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x as object)) stack.push([c, d + 1]);
  }
  return false;
}

/** What the transcript stores in place of arguments refused before they could be read. */
export function unrecordedArgs(reason: string): Record<string, unknown> {
  return { $unrecorded: reason };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where the arguments hold a string (a value or a key) no backend receives as sent: a NUL ends a
 * C string (PostgreSQL reads a statement only up to it; exec truncates argv there), and a lone
 * surrogate has no UTF-8 form (it turns into U+FFFD on the wire, so what runs would differ from
 * what was analysed and approved). Also a number past 2^53 - 1 in size (every such double is an
 * integer, and most integers there have none): JSON.parse kept only the nearest double, so
 * `9007199254740993` sent as a query parameter ran (and was recorded and approved) as
 * 9007199254740992, another row than the one the agent's client showed; a string carries such
 * a value exactly. Null when there is none; iterative, run after the depth check.
 */
export function unencodableString(v: unknown): string | null {
  // Paths are spelled only for the answer (a refusal): every call passes through here.
  type Entry = { value: unknown; parent: Entry | null; key: string };
  const pathOf = (e: Entry | null): string => {
    const keys: string[] = [];
    for (let x = e; x?.parent; x = x.parent) keys.push(x.key);
    return keys.reverse().join('.');
  };
  const why = (s: string): string | null =>
    s.includes('\u0000') ? 'a NUL character' : LONE_SURROGATE.test(s) ? 'a lone surrogate (text that has no UTF-8 form)' : null;
  const at = (path: string) => (path ? ` at ${path.slice(0, 80)}` : '');
  const stack: Entry[] = [{ value: v, parent: null, key: '' }];
  while (stack.length) {
    const e = stack.pop()!;
    const x = e.value;
    if (typeof x === 'string') {
      const bad = why(x);
      if (bad) return `${bad}${at(pathOf(e))}`;
      continue;
    }
    if (typeof x === 'number') {
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) return `a number past 2^53 - 1${at(pathOf(e))} (read as ${String(x).slice(0, 40)}: such a number is rounded when parsed; send it as a string)`;
      continue;
    }
    if (x === null || typeof x !== 'object') continue;
    for (const k of Object.keys(x)) {
      const badKey = why(k);
      if (badKey) return `${badKey}${at(pathOf(e) || '(arguments)')} in a key`;
      stack.push({ value: (x as Record<string, unknown>)[k], parent: e, key: k });
    }
  }
  return null;
}

/** The most characters of a name an agent sends (tool, connection, client name and version) that the transcript keeps. */
export const MAX_RECORDED_NAME = 256;

/**
 * `s` as the transcript keeps it: whole up to MAX_RECORDED_NAME characters, a longer one cut and
 * its length said. Why: arguments are bounded (limits.max_input_bytes) and a larger set is not
 * stored, but these names came whole from the request, up to the body limit, and the client name
 * with every per-request `tools/list`, which no rate limit counts (a red-team pass wrote 600 KB to
 * the transcript per request that way). Returns at once for the usual short name.
 */
export function recordedName(s: string): string {
  if (s.length <= MAX_RECORDED_NAME) return s;
  const head = s.slice(0, MAX_RECORDED_NAME);
  // Not half a surrogate pair: the cut must stay text the store can encode.
  return `${/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head}... (cut: ${s.length} characters)`;
}
