/**
 * Turning verified token claims into a principal's groups and rule-usable claims.
 */

/**
 * Registered/time claims that rules never need and that change on every token (`uti`, `rh` and
 * `aio` are Entra ID's per-token ids): an HTTP session is bound to the remaining claims, so these
 * would end it at every token refresh.
 */
const DROPPED = new Set(['exp', 'nbf', 'iat', 'jti', 'auth_time', 'at_hash', 'c_hash', 'nonce', 'sid', 'uti', 'rh', 'aio']);

/**
 * Read the groups claim: an exact top-level key first (claim names may contain dots, e.g. a
 * namespaced URL), then a dotted path such as `realm_access.roles`. Arrays keep their strings
 * and integers (numeric group ids, as some directories send them, in decimal: a deny on group
 * "1001" must match `groups: [1001]`, or it fails open); a single string or integer is one
 * group; anything else is no group (fail closed: no grant).
 */
export function groupsFromClaims(payload: Record<string, unknown>, claim: string): string[] {
  let v: unknown = Object.prototype.hasOwnProperty.call(payload, claim) ? payload[claim] : undefined;
  if (v === undefined && claim.includes('.')) {
    v = payload;
    for (const part of claim.split('.')) {
      if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, part)) {
        v = undefined;
        break;
      }
      v = (v as Record<string, unknown>)[part];
    }
  }
  const group = (g: unknown): string | null => (typeof g === 'string' && g.length > 0 ? g : Number.isSafeInteger(g) ? String(g) : null);
  if (!Array.isArray(v)) return group(v) === null ? [] : [group(v)!];
  return [...new Set(v.map(group).filter((g): g is string => g !== null))];
}

/**
 * Claims kept on the principal for `who.claims` rules (e.g. a CI job's repository). A claim named
 * `__proto__` (an own key after JSON.parse) is dropped: assigned here it would become the
 * prototype of the claims object, and a rule reading `claims.repository` would find the value it
 * holds as if the token carried that claim.
 */
export function principalClaims(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (DROPPED.has(k) || k === '__proto__') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v) || (v && typeof v === 'object')) out[k] = v;
  }
  return out;
}
