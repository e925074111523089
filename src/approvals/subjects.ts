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

/** The comparison key: the folding deny rules use for names (policy/who.ts foldName), one definition for both. */
export const subjectKey: (s: string) => string = foldName;

/** Whether two subjects name the same person under subjectKey. */
export function sameSubject(a: string, b: string): boolean {
  return a === b || subjectKey(a) === subjectKey(b);
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
