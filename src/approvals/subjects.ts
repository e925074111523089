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
