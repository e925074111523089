/**
 * Finding a member name that a JSON object repeats (`{"groups":["contractors"],"groups":["staff"]}`).
 * Why: JSON.parse (jose's reader) keeps the last, other readers (an IdP's own checks, a log
 * pipeline, a gateway in front of Warden) keep the first, so the token would say one thing to
 * them and another to Warden's policy. RFC 7519 lets a JWT reader keep the last or refuse; Warden
 * refuses, in the payload and the JOSE header (token-form.ts), at any depth, comparing names after their escapes are decoded (`\u0067roups`
 * is `groups`). Runs only on a token not yet verified (the verifier caches), never per call.
 */

/** The first repeated member name in a JSON text (assumed valid JSON), or null. */
export function repeatedMemberName(json: string): string | null {
  // One entry per open container: the names seen so far in an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const names = stack[stack.length - 1];
      if (expectName && names) {
        const name = JSON.parse(json.slice(i, j + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectName = true;
    } else if (c === '[') {
      stack.push(null);
      expectName = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = stack[stack.length - 1] != null;
    }
  }
  return null;
}
