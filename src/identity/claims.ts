/**
 * Turning verified token claims into a principal's groups and rule-usable claims.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { NAME_LIST_SEPARATORS, PER_TOKEN_CLAIMS } from '../config/schema-parts.js';

/**
 * Claims that change on every token (config/schema-parts.ts PER_TOKEN_CLAIMS): an HTTP session is
 * bound to the remaining claims, so these would end it at every token refresh. A rule naming one
 * is refused by the policy linter (it could never match).
 */
const DROPPED = PER_TOKEN_CLAIMS;

/**
 * How a groups claim sent as ONE string holding whitespace, commas or semicolons is read
 * (`identity.oidc.groups_string`): `refuse` (the default) refuses the token, `whole` reads it as
 * one group name, `split` reads each word as a group. Why refuse by default: `staff contractors`
 * is two groups to one IdP and one group name to another, and a deny on `contractors` must not
 * depend on Warden guessing which.
 */
export type GroupsString = 'refuse' | 'whole' | 'split';

/**
 * Read the groups claim: an exact top-level key first (claim names may contain dots, e.g. a
 * namespaced URL), then a dotted path such as `realm_access.roles`. A list keeps its strings and
 * integers (numeric group ids, as some directories send them, in decimal: a deny on group "1001"
 * must match `groups: [1001]`); a single string or integer is one group (see GroupsString for a
 * string that reads as several); absent, `null` and empty are no group. Anything else (an object
 * map such as `{contractors: true}`, a list holding an object, a boolean, a fraction, a list of
 * lists, a path through a value that is no object) throws WARDEN_UNAUTHENTICATED (reason
 * `claims`). Why refuse rather than read it as no group: a deny on group `contractors` would then
 * miss the contractor whose IdP sends that shape (deny rules fail open); the message names the
 * shape, never the group names.
 */
export function groupsFromClaims(payload: Record<string, unknown>, claim: string, strings: GroupsString = 'refuse'): string[] {
  const refuse = (why: string) => new WardenError(ErrorCode.UNAUTHENTICATED, `the token's groups claim (${claim}) ${why}, which Warden cannot read as group names; refusing the token rather than reading it as no group`, { reason: 'claims' });
  let v: unknown = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (v === undefined && claim.includes('.')) {
    v = payload;
    let path = '';
    for (const part of claim.split('.')) {
      if (v === null || v === undefined) break;
      if (typeof v !== 'object' || Array.isArray(v)) throw refuse(`runs through ${path} holding ${shapeOf(v)}`);
      v = Object.hasOwn(v, part) ? (v as Record<string, unknown>)[part] : undefined;
      path = path ? `${path}.${part}` : part;
    }
  }
  // A distributed claim (OpenID Connect Core 5.6.2; Entra ID's group overage past 200 groups):
  // the token names where the groups are instead of carrying them, and no group is not the answer.
  if (v === undefined && distributed(payload, claim)) throw refuse('is distributed (_claim_names names a source for it instead of the token carrying it, as Entra ID does past 200 groups)');
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') {
    if (!NAME_LIST_SEPARATORS.test(v) || strings === 'whole') return [v];
    if (strings === 'split') return [...new Set(v.split(NAME_LIST_SEPARATORS).filter(Boolean))];
    throw refuse('is one string holding whitespace, commas or semicolons (one group or several? set identity.oidc.groups_string to whole or split)');
  }
  if (Number.isSafeInteger(v)) return [String(v)];
  if (!Array.isArray(v)) throw refuse(`is ${shapeOf(v)}`);
  const out = new Set<string>();
  for (const g of v) {
    if (typeof g === 'string') {
      if (g) out.add(g);
    } else if (Number.isSafeInteger(g)) out.add(String(g));
    else throw refuse(`is a list with an item that is ${shapeOf(g)}`);
  }
  return [...out];
}

/** Does `_claim_names` send this claim (or the first step of its dotted path) elsewhere? */
function distributed(payload: Record<string, unknown>, claim: string): boolean {
  const names = payload._claim_names;
  return !!names && typeof names === 'object' && (Object.hasOwn(names, claim) || Object.hasOwn(names, claim.split('.')[0]!));
}

/** The JSON shape of a value, for a refusal (never the value itself). */
function shapeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer beyond 2^53' : 'a fraction';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
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
