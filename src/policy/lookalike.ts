/**
 * Look-alike letters in a word, by a script check instead of a confusables table: a word that
 * mixes Latin with another script's letters (Cyrillic, Greek, Armenian, ...) or with phonetic
 * Latin, or uses full-width or mathematical letters at all, reads as another word (`uѕers`,
 * `аdmins`). Why here: policy lint warns about such names in `who:`, and the reviewer views
 * (approvals/reviewable.ts) about such words in a call, alike.
 */

// Letter classes a reader can mistake for one another. Full-width and mathematical letters are
// Latin look-alikes wherever they appear; the others only mislead when mixed inside one word.
// Phonetic Latin (IPA `ɑ` U+0251, small capitals `ᴜ`, the clicks `ǀ`, Latin Extended-D/E/F/G) is
// Latin script but no European alphabet's letters: mixed with plain Latin it reads as plain Latin
// (`bob@exɑmple.com`), while a transcription written in it alone is one class and not flagged.
const CLASSES: [name: string, re: RegExp][] = [
  ['full-width', /[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/u],
  ['mathematical', /[\u{1d400}-\u{1d7ff}]/u],
  ['phonetic Latin', /(?=\p{L})[\u01c0-\u01c3\u0250-\u02af\u1d00-\u1dbf\ua720-\ua7ff\uab30-\uab6f\u{10780}-\u{107bf}\u{1df00}-\u{1dfff}]/u],
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];

// Scripts named in a warning when their letters mix with another class (the ones with letters
// drawn like Latin ones first); a letter of any other script is `another script`. Why every
// script and not a list: a red team hid `ս` (Armenian) in `սsers`, `Ꭺ` (Cherokee) in `Ꭺdmin`
// and `ו` (Hebrew, an `l`) in a name, which the Latin/Cyrillic/Greek check passed.
const NAMED_SCRIPTS: [name: string, re: RegExp][] = [
  'Armenian', 'Cherokee', 'Coptic', 'Lisu', 'Canadian_Aboriginal', 'Georgian', 'Tifinagh', 'Vai', 'Osage', 'Old_Italic',
  'Gothic', 'Deseret', 'Runic', 'Ogham', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Devanagari', 'Thai', 'Ethiopic',
].map((n): [string, RegExp] => [n.replace('_', ' '), new RegExp(`\\p{Script=${n}}`, 'u')]);

// Han, kana, Hangul and Bopomofo have no Latin look-alikes and mix with Latin in real words (`Tシャツ`, `3D映像`).
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u;

/**
 * A word: letters, marks, digits, `_`, and format characters (a zero-width space must not split
 * `u\u200bѕers` into two innocent-looking halves).
 */
export const WORD = /[\p{L}\p{M}\p{N}\p{Cf}_]+/gu;

function classOf(ch: string): string | null {
  for (const [name, re] of CLASSES) if (re.test(ch)) return name;
  if (!/\p{L}/u.test(ch) || CJK.test(ch)) return null;
  for (const [name, re] of NAMED_SCRIPTS) if (re.test(ch)) return name;
  return 'another script';
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

// Cyrillic and Greek letters drawn like a Latin one (the clear cases of Unicode's confusables).
const AS_LATIN: Record<string, string> = {
  а: 'a', с: 'c', ԁ: 'd', е: 'e', һ: 'h', і: 'i', ј: 'j', ӏ: 'l', о: 'o', р: 'p', ԛ: 'q', ѕ: 's', ԝ: 'w', х: 'x', у: 'y',
  А: 'A', В: 'B', С: 'C', Е: 'E', Н: 'H', І: 'I', Ј: 'J', К: 'K', М: 'M', О: 'O', Р: 'P', Ѕ: 'S', Т: 'T', Х: 'X', Ү: 'Y', Ԛ: 'Q', Ԝ: 'W',
  ο: 'o', ν: 'v', ι: 'i', κ: 'k', ρ: 'p', υ: 'u',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};

/**
 * A word of two or more Cyrillic or Greek letters that all read as Latin ones (`орѕ` is `ops`):
 * no Latin letter to mix with, so lookalikeWhy passes it. Names only: in a call's free text a
 * Russian word such as `сор` is common, so the reviewer views do not use it.
 */
function wholeScriptLookalike(word: string): string | null {
  const letters = [...word].filter((ch) => /\p{L}/u.test(ch));
  if (letters.length < 2 || !letters.every((ch) => AS_LATIN[ch])) return null;
  const cps = [...new Set(letters)].slice(0, 6).map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ${classOf(ch)}`);
  return `${cps.join(', ')}; the word reads as Latin "${[...word].map((ch) => AS_LATIN[ch] ?? ch).join('')}"`;
}

/** Why a name (one or more words) misleads, for its first misleading word, or null. */
export function lookalikeName(name: string): string | null {
  for (const m of name.matchAll(WORD)) {
    const why = lookalikeWhy(m[0]) ?? wholeScriptLookalike(m[0]);
    if (why) return why;
  }
  return null;
}
