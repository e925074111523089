/**
 * Look-alike letters in a word, by a script check instead of a confusables table: a word that
 * mixes Latin with Cyrillic or Greek letters, or uses full-width or mathematical letters at all,
 * reads as another word (`uѕers`, `аdmins`). Why here: policy lint warns about such names in
 * `who:`, and the reviewer views (approvals/reviewable.ts) about such words in a call, alike.
 */

// Letter classes a reader can mistake for one another. Full-width and mathematical letters are
// Latin look-alikes wherever they appear; the others only mislead when mixed inside one word.
const CLASSES: [name: string, re: RegExp][] = [
  ['full-width', /[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/u],
  ['mathematical', /[\u{1d400}-\u{1d7ff}]/u],
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];

/**
 * A word: letters, marks, digits, `_`, and format characters (a zero-width space must not split
 * `u\u200bѕers` into two innocent-looking halves).
 */
export const WORD = /[\p{L}\p{M}\p{N}\p{Cf}_]+/gu;

function classOf(ch: string): string | null {
  for (const [name, re] of CLASSES) if (re.test(ch)) return name;
  return null;
}

/** Why a word misleads, as `U+0455 Cyrillic, ...` (the letters that are not plain ASCII), or null when it does not. */
export function lookalikeWhy(word: string): string | null {
  if (/^[\x00-\x7f]*$/.test(word)) return null;
  const seen = new Set<string>();
  const marks = new Map<string, string>();
  let styledLetter = false;
  for (const ch of word) {
    const c = classOf(ch);
    if (!c) continue;
    seen.add(c);
    if (c === 'mathematical' || (c === 'full-width' && /\p{L}/u.test(ch))) styledLetter = true;
    if (c !== 'Latin' || ch.codePointAt(0)! > 0x7f) {
      if (marks.size < 6) marks.set(ch, `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ${c}`);
    }
  }
  if (!styledLetter && seen.size < 2) return null;
  return [...marks.values()].join(', ') || null;
}

/** Why a name (one or more words) misleads, for its first misleading word, or null. */
export function lookalikeName(name: string): string | null {
  for (const m of name.matchAll(WORD)) {
    const why = lookalikeWhy(m[0]);
    if (why) return why;
  }
  return null;
}
