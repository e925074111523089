/**
 * PL/pgSQL source (pg_proc.prosrc) in tokens, as PostgreSQL's scanner reads it, for the
 * recogniser of blind trigger functions (trigger-bodies.ts); fail closed: whatever PostgreSQL might
 * read otherwise is refused with why. `--` comments end at a newline; comments nest; '...' strings
 * double their quotes (a backslash in one is refused, whatever standard_conforming_strings
 * says); E'...' strings escape with backslashes too; $tag$...$tag$ strings end at the same tag;
 * "..." identifiers keep their case, unquoted ones fold to lower case (ASCII only; a non-ASCII
 * character outside a string or comment, a name longer than 63 characters, which PostgreSQL
 * would cut, are refused). U&, B'', X'', N'', a parameter ($1), a
 * number run into a letter or a dot, a `::` cast and a lone `:` are refused. An operator is the
 * longest run of operator characters before a comment starts (never shorter than PostgreSQL's
 * reading, so an operator it would split is refused as a whole).
 */

export type Token = { k: 'id' | 'qid' | 'str' | 'num' | 'op' | 'p'; v: string };

/** The longest name PostgreSQL keeps (NAMEDATALEN 64, less one): a longer one is cut, maybe to a masked column's name. */
const MAX_NAME = 63;
const OP_CHARS = '+-*/<>=~!@#%^&|`?';
const ident = (c: string) => /[A-Za-z0-9_$]/.test(c);
/** Sticky: they match at lastIndex, without copying the rest of the body. */
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;
const NUMBER = /[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/y;

/** The body's tokens, as PostgreSQL's scanner reads them; a string (why) when anything is in doubt. */
export function tokenize(src: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1] ?? '';
    if (/[ \t\n\r\f]/.test(c)) { i++; continue; }
    if (c === '-' && d === '-') {
      while (i < n && src[i] !== '\n' && src[i] !== '\r') i++;
      continue;
    }
    if (c === '/' && d === '*') {
      let depth = 0;
      while (i < n) {
        if (src[i] === '/' && src[i + 1] === '*') { depth++; i += 2; } else if (src[i] === '*' && src[i + 1] === '/') { depth--; i += 2; if (!depth) break; } else i++;
      }
      if (depth) return 'an unterminated comment';
      continue;
    }
    if (/[uU]/.test(c) && d === '&') return 'a U& literal or identifier';
    if (/[bBxXnN]/.test(c) && d === "'") return 'a B\'\', X\'\' or N\'\' literal';
    if (c === "'" || (/[eE]/.test(c) && d === "'")) {
      const escapes = c !== "'";
      let j = escapes ? i + 2 : i + 1;
      for (;;) {
        if (j >= n) return 'an unterminated string';
        const x = src[j]!;
        if (x === '\\') {
          if (!escapes) return 'a backslash in a string';
          j += 2;
        } else if (x === "'") {
          if (src[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      out.push({ k: 'str', v: src.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= n) return 'an unterminated quoted identifier';
        if (src[j] === '"') {
          if (src[j + 1] === '"') { v += '"'; j += 2; continue; }
          break;
        }
        v += src[j++];
      }
      if (!v) return 'an empty quoted identifier';
      if (v.length > MAX_NAME || /[^\x20-\x7e]/.test(v)) return 'an identifier PostgreSQL would truncate, or not ASCII';
      out.push({ k: 'qid', v });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(src);
      if (!tag) return 'a $ that opens no dollar-quoted string';
      const end = src.indexOf(tag[0], i + tag[0].length);
      if (end < 0) return 'an unterminated dollar-quoted string';
      out.push({ k: 'str', v: src.slice(i, end + tag[0].length) });
      i = end + tag[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && ident(src[j]!)) j++;
      if (j - i > MAX_NAME) return 'an identifier PostgreSQL would truncate';
      out.push({ k: 'id', v: src.slice(i, j).toLowerCase() });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      NUMBER.lastIndex = i;
      const num = NUMBER.exec(src)![0];
      const next = src[i + num.length] ?? '';
      if (ident(next) || next === '.') return 'a number PostgreSQL may read otherwise';
      out.push({ k: 'num', v: num });
      i += num.length;
      continue;
    }
    if (c === ':') {
      if (d === '=') { out.push({ k: 'op', v: ':=' }); i += 2; continue; }
      return d === ':' ? 'a cast (::)' : 'a :';
    }
    if (OP_CHARS.includes(c)) {
      let j = i;
      // An operator ends where a comment starts, as in PostgreSQL's scanner.
      while (j < n && OP_CHARS.includes(src[j]!) && !(j > i && (src.startsWith('--', j) || src.startsWith('/*', j)))) j++;
      out.push({ k: 'op', v: src.slice(i, j) });
      i = j;
      continue;
    }
    if ('()[],;.'.includes(c)) {
      if (c === '.' && /[0-9]/.test(d)) return 'a number PostgreSQL may read otherwise';
      out.push({ k: 'p', v: c });
      i++;
      continue;
    }
    return `the character ${JSON.stringify(c)}`;
  }
  return out;
}
