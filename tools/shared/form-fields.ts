/**
 * Secret-named form fields the `NAME=value` forms of secret-text.ts cannot read: a URL-encoded
 * name and separator (`password%3Dx` in a query string or form body, `password%3Ax`, a query
 * encoded inside another's value `next=%2Fcb%3Fapi_key%3Dx`, encoded JSON
 * `%22password%22%3A%22x%22`, double-encoded `%253D`, up to three times) and a bracketed field name
 * (`user[password]=x`, `user%5Bpassword%5D%3Dx`, as Rails and PHP forms post them). Why a
 * scan of its own: the forms' names hold no `%` or `[`, and their values run over `%3D`.
 * The name is judged decoded, by its last bracketed part (`user[name]` is no secret); a plain
 * value ends at `&` or an encoded `%26`, a value opened by an encoded quote `%22` at its
 * closing `%22`, either at a blank or a quote. Linear: a name starts only after a character
 * no name holds, and each value is read once, after the scan has passed it.
 */
import { secretValue } from './secret-names.js';

const MASK = '***';
/** A percent sign, itself encoded up to three times (`%25` is `%`). */
const P = String.raw`%(?:25){0,3}`;
/** What may stand before a field's name: a line's start, a blank, a separator, or one encoded. */
const BEFORE = String.raw`(^|[\s?&;,"'=/({]|${P}(?:26|3[Ff]|2[02Cc]|7[Bb]|0[AaDd]))`;
const FIELD = new RegExp(
  BEFORE +
    String.raw`(?:([A-Za-z_][\w.-]*\[[\w.[\]-]*\])(=)|([A-Za-z_](?:[\w.\-\[\]]|${P}5[BbDd])*)((?:${P}22)?(?:${P}3[Dd]|${P}3[Aa](?:${P}20|\+)*)(${P}22)?))`,
  'gm',
);
/** A value opened by an encoded quote: to the closing one. */
const QUOTED_VALUE = new RegExp(String.raw`(?:[^%\s"'&<>]|%(?!(?:25){0,3}22))*`, 'y');
/** A plain value: to `&`, `%26`, `#`, a blank or a quote. */
const PLAIN_VALUE = new RegExp(String.raw`(?:[^%\s"'&<>#;]|%(?!(?:25){0,3}26))*`, 'y');

/** Percent-decoded, each `%XX` read however many times its `%` was encoded. */
const decode = (s: string) => s.replace(/%(?:25){0,3}([0-9A-Fa-f]{2})/g, (_all: string, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** A field's name as a secret is judged: its last non-empty bracketed part (`user[password]`). */
function leafName(raw: string): string {
  const parts = decode(raw).split(/[[\]]/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

/** Mask the values of secret-named encoded or bracketed form fields; `count.n` grows by each value masked. Why: see the module's comment. */
export function maskFormFields(text: string, count?: { n: number }): string {
  if (!/%(?:25){0,3}3[DdAa]|\]=/.test(text)) return text;
  let out = '';
  let at = 0;
  FIELD.lastIndex = 0;
  for (let m = FIELD.exec(text); m; m = FIELD.exec(text)) {
    const start = m.index + m[0].length;
    const quoted = m[6] !== undefined;
    const reader = quoted ? QUOTED_VALUE : PLAIN_VALUE;
    reader.lastIndex = start;
    const value = reader.exec(text)?.[0] ?? '';
    const name = leafName(m[2] ?? m[4] ?? '');
    if (value === '' || value === MASK || !secretValue(name, decode(value))) continue;
    out += text.slice(at, start) + MASK;
    at = start + value.length;
    FIELD.lastIndex = at;
    if (count) count.n++;
  }
  return at === 0 ? text : out + text.slice(at);
}
