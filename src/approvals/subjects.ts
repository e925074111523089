/**
 * When two subject strings name the same person, for the approval rules only (no self-approval,
 * distinct reviewers). Why: the requester must not approve as `Sam`, ` sam`, `ｓａｍ` or `sam` with
 * a zero-width space (a local `--as`, a differently configured local reviewer, an IdP that is
 * case-insensitive), and one person must not count twice that way. Folding is deliberately
 * generous: two real people whose subjects differ only so are treated as one, which can only
 * refuse a decision, never allow one (fail closed).
 */

/** The comparison key: NFKC, format and control characters dropped, whitespace collapsed, case folded. */
export function subjectKey(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/[\p{Cf}\p{Cc}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC');
}

/** Whether two subjects name the same person under subjectKey. */
export function sameSubject(a: string, b: string): boolean {
  return a === b || subjectKey(a) === subjectKey(b);
}
