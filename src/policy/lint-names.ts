/**
 * Lint for names in `who:` and approval reviewers that do not reach whom they say: patterns,
 * claims no principal carries (perTokenClaims), and look-alike names (lookalike.ts): a deny for group
 * `аdmins` with a Cyrillic `а` reads as `admins` and never matches it; a grant to a look-alike
 * name reaches whoever the identity provider gives that name. Why a warning, not an error: a
 * name in a script other than Latin is valid, and only the admin knows which one was meant.
 */
import { PER_TOKEN_CLAIMS } from '../config/schema-parts.js';
import { foldName } from './who.js';
import { lookalikeName } from './lookalike.js';
import type { CompiledRule } from './types.js';
import type { Who } from './schema.js';

/** One finding: the key path inside the rule and the message. */
export interface NameFinding {
  key: (string | number)[];
  message: string;
}

const KIND = { subjects: 'subject', groups: 'group', actors: 'actor' } as const;

/** Look-alike names of a rule's `who:` and `approval.reviewers`, each at its own key. */
export function lookalikeNames(r: CompiledRule): NameFinding[] {
  const out: NameFinding[] = [];
  // A deny compares folded names (who.ts), so a full-width name there still matches: judge what it compares.
  const denyFolds = (s: string) => (r.effect === 'deny' ? foldName(s) : s);
  const effect = r.effect === 'deny' ? 'a deny never matches the name it reads as' : 'it grants whoever holds this exact name, not the one it reads as';
  const check = (who: Who | undefined, base: string[], what: string, fold: (s: string) => string) => {
    if (!who) return;
    for (const list of ['subjects', 'groups', 'actors'] as const) {
      who[list]?.forEach((name, i) => {
        const why = lookalikeName(fold(name));
        if (why) out.push({ key: [...base, list, i], message: `${KIND[list]} "${name}" has look-alike letters (${why}): ${what}` });
      });
    }
    for (const [claim, want] of Object.entries(who.claims ?? {})) {
      const keyWhy = lookalikeName(claim);
      const valueWhy = (Array.isArray(want) ? want : [want]).map((v) => lookalikeName(fold(v))).find((w) => w);
      if (keyWhy) out.push({ key: [...base, 'claims', claim], message: `claim name "${claim}" has look-alike letters (${keyWhy}): no token carries it, so ${what}` });
      else if (valueWhy) out.push({ key: [...base, 'claims', claim], message: `claim ${claim} names a value with look-alike letters (${valueWhy}): ${what}` });
    }
  };
  check(r.who, ['who'], effect, denyFolds);
  check(r.approval?.reviewers, ['approval', 'reviewers'], 'it makes whoever holds this exact name a reviewer, not the one it reads as', (s) => s);
  return out;
}

/** Where policy check's pattern finding starts (dead-denies.ts refuses a deny that has one). */
export const NOT_A_PATTERN = 'is matched exactly, not as patterns';

/**
 * Names in `who:` (and reviewers) written like a pattern (`*`). Why: names are compared exactly
 * (a deny's folded), so a deny for `subjects: ["*"]` or `groups: [contractors-*]` matched no one
 * it was written for; an allow grants only the literal name.
 */
export function patternNames(r: CompiledRule): NameFinding[] {
  const out: NameFinding[] = [];
  const what = r.effect === 'deny' ? 'this deny never matches the names it was meant for' : 'it reaches only a principal with exactly this name';
  const check = (who: Who | undefined, base: string[], said: string) => {
    if (!who) return;
    for (const list of ['subjects', 'groups', 'actors'] as const) {
      who[list]?.forEach((name, i) => {
        if (name.includes('*')) out.push({ key: [...base, list, i], message: `${KIND[list]} "${name}" ${NOT_A_PATTERN} (* is no wildcard): ${said}` });
      });
    }
    for (const [claim, want] of Object.entries(who.claims ?? {})) {
      const v = (Array.isArray(want) ? want : [want]).find((x) => x.includes('*'));
      if (v !== undefined) out.push({ key: [...base, 'claims', claim], message: `claim ${claim} value "${v}" ${NOT_A_PATTERN} (* is no wildcard): ${said}` });
    }
  };
  check(r.who, ['who'], `${what}; omit who: to mean anyone`);
  check(r.approval?.reviewers, ['approval', 'reviewers'], 'only a reviewer with exactly this name may approve');
  return out;
}

/**
 * `claims:` entries naming a per-token claim (`jti`, `sid`, `exp`, ...; config/schema-parts.ts
 * PER_TOKEN_CLAIMS). Why: the principal never carries them (a session outlives a token refresh),
 * so the entry matches no token: a deny meant to stop one leaked token or one IdP session stopped
 * nothing (policy check reports an error; serve refuses such a deny, dead-denies.ts).
 */
export function perTokenClaims(r: CompiledRule): NameFinding[] {
  const out: NameFinding[] = [];
  const check = (who: Who | undefined, base: string[]) => {
    for (const claim of Object.keys(who?.claims ?? {})) {
      if (!PER_TOKEN_CLAIMS.has(claim)) continue;
      out.push({
        key: [...base, 'claims', claim],
        message: `can never match: claims.${claim} is a per-token claim, which Warden keeps off the principal (a session outlives a token refresh), so no token matches it; to stop a leaked token or IdP session, deny its subject (or a claim it keeps) until it expires, or have the issuer rotate its key`,
      });
    }
  };
  check(r.who, ['who']);
  check(r.approval?.reviewers, ['approval', 'reviewers']);
  return out;
}

/** One case-variant finding: the rule it is in, the key inside that rule, and the message. */
export interface CaseFinding extends NameFinding {
  rule: CompiledRule;
}

/**
 * Subjects and groups spelt in another case than the same name elsewhere (`OnCall` and `oncall`),
 * reported where the name is matched exactly: in an allow's `who:` or in `approval.reviewers`
 * (a deny folds case, so its spelling reaches both). Why: one of the two spellings is not what
 * the identity provider sends, and an exact match on it quietly reaches no one.
 */
export function caseVariantNames(rules: CompiledRule[], where: (rule: CompiledRule, key: (string | number)[]) => string): CaseFinding[] {
  type Use = { rule: CompiledRule; list: 'subjects' | 'groups'; name: string; key: (string | number)[]; exact: 'who' | 'reviewers' | null };
  const uses: Use[] = [];
  for (const rule of rules) {
    for (const list of ['subjects', 'groups'] as const) {
      rule.who?.[list]?.forEach((name, i) => uses.push({ rule, list, name, key: ['who', list, i], exact: rule.effect === 'allow' ? 'who' : null }));
      rule.approval?.reviewers?.[list]?.forEach((name, i) => uses.push({ rule, list, name, key: ['approval', 'reviewers', list, i], exact: 'reviewers' }));
    }
  }
  const out: CaseFinding[] = [];
  uses.forEach((u, i) => {
    if (!u.exact) return;
    const other = uses.find((o, j) => o.list === u.list && o.name !== u.name && o.name.toLowerCase() === u.name.toLowerCase() && (j < i || !o.exact));
    if (!other) return;
    const whom = u.list === 'groups' ? `a principal in "${other.name}"` : `the subject "${other.name}"`;
    const effect = u.exact === 'who' ? `an allow matches names exactly, so it does not reach ${whom}` : `reviewers match names exactly, so it does not make ${whom} a reviewer`;
    out.push({ rule: u.rule, key: u.key, message: `${KIND[u.list]} "${u.name}" differs only in case from "${other.name}" (${where(other.rule, other.key)}): ${effect} (write the name as the identity provider sends it)` });
  });
  return out;
}
