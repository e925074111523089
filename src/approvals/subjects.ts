/**
 * When two subject strings name the same person, for the approval rules only (no self-approval,
 * distinct reviewers). Why: the requester must not approve as `Sam`, ` sam`, `ｓａｍ` or `sam` with
 * a zero-width space, U+034F, a variation selector or a Hangul filler (a local `--as`, a
 * differently configured local reviewer, an IdP that is case-insensitive), and one person must
 * not count twice that way. Folding is deliberately
 * generous: two real people whose subjects differ only so are treated as one, which can only
 * refuse a decision, never allow one (fail closed).
 */

import { foldName } from '../policy/who.js';

/**
 * The comparison key: the folding deny rules use for names (policy/who.ts foldName), and trailing
 * full stops dropped (`sam@corp.example.` is the DNS-absolute spelling of `sam@corp.example`; a
 * full-width `．` folds to `.` first). Approvals only: an allow rule naming `sam` does not match `sam.`.
 */
export const subjectKey = (s: string): string => foldName(s).replace(/\.+$/u, '');

/** Whether two subjects name the same person under subjectKey. */
export function sameSubject(a: string, b: string): boolean {
  return a === b || subjectKey(a) === subjectKey(b);
}

/**
 * The claims whose values name a person whatever identity source presents them (config
 * `approvals.person_claims`), when the service is not told: `email`. Why: one person signs in
 * with an IdP's opaque `sub` and runs an agent as their email (the stdio identity, another issuer
 * whose `sub` is the email); the no-self-approval rule must see both as one.
 */
export const DEFAULT_PERSON_CLAIMS: readonly string[] = ['email'];

/**
 * Every name a reviewer could be the requester under: the subject and the string values (or
 * strings of a list) of `personClaims` in its verified claims. Local and stdio principals carry no
 * claims: their subject alone. Whether a claim is verified (`email_verified`) does not matter: a
 * name the reviewer claims can only refuse its decisions.
 */
export function reviewerNames(p: { subject: string; claims: Record<string, unknown> }, personClaims: readonly string[] = DEFAULT_PERSON_CLAIMS): string[] {
  const out = [p.subject];
  for (const c of personClaims) {
    const v = Object.hasOwn(p.claims, c) ? p.claims[c] : undefined;
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' && x) out.push(x);
  }
  return out;
}

/** At most this many person names are recorded with a request or a decision (requesterNames, decisionNames); why: a bounded row and check. */
export const MAX_REQUESTER_NAMES = 16;
/** At most this many characters per recorded name (an email is at most 254); why: a bounded row and check. */
export const MAX_REQUESTER_NAME_CHARS = 320;

/**
 * The requester's person names a request records (its `requested` record and the requester_names
 * column): the string values of `personClaims` in its claims, as given, one per folded spelling,
 * without those folding to its subject (compared anyway). Why: the reviewer who signs in with
 * another `sub` and the same email is the requester; the check folds them as it folds subjects.
 * A string when they cannot all be recorded (more than MAX_REQUESTER_NAMES values, or one longer
 * than MAX_REQUESTER_NAME_CHARS, as given or folded): the gate refuses the call (fail closed: an
 * unrecorded name would let its owner approve).
 */
export function requesterNames(p: { subject: string; claims: Record<string, unknown> }, personClaims: readonly string[] = DEFAULT_PERSON_CLAIMS): string[] | string {
  return recordedNames(p, personClaims, 'requester');
}

/**
 * The reviewer's person names a decision records (its `decision` record and the reviewer_names
 * column of approval_decisions), chosen and bounded as requesterNames. Why: one person counts
 * once; dana who approved with her IdP token (`sub` 00u9, `email` dana@corp.example) must not
 * approve again as `dana@corp.example` (local login, `--as`, stdio, another issuer), and only
 * names recorded with her first decision say so. A string when they cannot all be recorded: the
 * decision is refused (fail closed: an unrecorded name would let its owner approve twice).
 */
export function decisionNames(p: { subject: string; claims: Record<string, unknown> }, personClaims: readonly string[] = DEFAULT_PERSON_CLAIMS): string[] | string {
  return recordedNames(p, personClaims, 'reviewer');
}

function recordedNames(p: { subject: string; claims: Record<string, unknown> }, personClaims: readonly string[], whose: 'requester' | 'reviewer'): string[] | string {
  const given = reviewerNames(p, personClaims).slice(1);
  const label = `approvals.person_claims: ${personClaims.join(', ')}`;
  if (given.length > MAX_REQUESTER_NAMES) return `the ${whose}'s token carries more than ${MAX_REQUESTER_NAMES} names in its person claims (${label})`;
  const keys = new Set([subjectKey(p.subject)]);
  const out: string[] = [];
  for (const name of given) {
    if (name.length > MAX_REQUESTER_NAME_CHARS || subjectKey(name).length > MAX_REQUESTER_NAME_CHARS) {
      return `the ${whose}'s token carries a name longer than ${MAX_REQUESTER_NAME_CHARS} characters in its person claims (${label})`;
    }
    const key = subjectKey(name);
    if (!keys.has(key)) (keys.add(key), out.push(name));
  }
  return out;
}

/**
 * The identity source an approval binds with the subject (the request's `requesterAuth`, a
 * decision's `auth`): `stdio`, `local`, or `oidc:` and the issuer that signed the token. Why the
 * issuer: a `sub` is unique only within its issuer, so after `identity.oidc.issuer` changes (a
 * restart, a replica of the shared store trusting another IdP) the same `sub` from the other
 * issuer is someone else: it neither spends, sees nor is held back by the first one's requests.
 * Requests recorded before (auth `oidc`) match no principal now: the call asks again (fail closed).
 */
export function identitySource(p: { authMethod: string; claims: Record<string, unknown> }): string {
  if (p.authMethod !== 'oidc') return p.authMethod;
  return `oidc:${typeof p.claims.iss === 'string' ? p.claims.iss : ''}`;
}
