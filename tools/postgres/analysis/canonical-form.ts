/**
 * A statement as it would run whatever its spelling: its tokens (as PostgreSQL's lexer splits
 * them, lexer.ts) joined by single spaces. Keywords and unquoted identifiers are already folded to
 * lower case (PostgreSQL folds them too). A string literal counts by the text PostgreSQL reads
 * ('Bob', E'Bob', $$Bob$$ and $q$Bob$q$ are one; where Warden does not decode it, an E'' string
 * with a backslash, B'', X'' or N'', as written), a quoted identifier PostgreSQL reads as the
 * unquoted one ("orders") as that name, and a `$n` placeholder by the value `params` gives it
 * (`id = $1` with [7] is `id = 7`, with ["Bob"] `name = 'Bob'`), so another literal is another
 * statement and the same one moved into params is not. A number counts by its value (`07`, `7.0`,
 * `7e0` are `7`), and so does a string literal or param that reads as a decimal number
 * (`'7'`, `$1` with ["7"]: node-postgres sends every param as text), and a `public.` or
 * `pg_catalog.` qualifier is dropped (the pinned search_path, connector.ts, is pg_catalog, public,
 * pg_temp: `orders` is `public.orders` unless pg_catalog has one). Each of these only ever makes
 * more statements the same, and the key only refuses (a string `'07'` is then `'7'`'s twin even
 * on a text column: refused for the cooldown, never run). Whitespace, comments and the trailing
 * semicolon are gone. Why: the deny cooldown keys on it (query-database.ts cooldownArgs), so
 * rewording a denied statement does not ask the reviewers again. Approvals still bind to
 * facts.sql, the exact text PostgreSQL receives, and its params. Computed only when an
 * approval-gated call reaches the gate, not stored with every call's facts.
 */
import { lex, literalText, type Token } from './lexer.js';

/** A parameter value as the gate receives it (query_database's params). */
export type ParamValue = string | number | boolean | null;

const quote = (s: string, q: string): string => q + s.split(q).join(q + q) + q;
/** A quoted name PostgreSQL reads as the unquoted one: lower case ASCII, not starting with a digit. */
const PLAIN_NAME = /^[a-z_][a-z0-9_$]*$/;

/** Schemas the pinned search_path resolves an unqualified name in before pg_temp (connector.ts PINNED_SETTINGS). */
const PATH_SCHEMAS = new Set(['public', 'pg_catalog']);
const DECIMAL = /^(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;
/** A string PostgreSQL's numeric input reads as a decimal number: optional spaces and sign. */
const NUMERIC_TEXT = /^\s*([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;

/**
 * A numeric literal's value, written one way: its significant digits and, when not 0, its power of
 * ten (`7`, `15e-1`, `7e1`). As written when it is not decimal (`0x7`: the parser refuses it).
 */
export function numberValue(text: string): string {
  const m = DECIMAL.exec(text);
  if (!m || !(m[1] || m[2])) return text;
  let digits = `${m[1] ?? ''}${m[2] ?? ''}`.replace(/^0+/, '');
  let scale = Number(m[3] ?? 0) - (m[2]?.length ?? 0);
  if (!digits) return '0';
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  scale += trailing;
  return scale === 0 ? digits : `${digits}e${scale}`;
}

/** A string (literal or param) as the number it reads as (a sign as its own token, as lexed), or null. */
function numericText(s: string): string | null {
  const m = NUMERIC_TEXT.exec(s);
  if (!m) return null;
  return `${m[1] === '-' ? '- ' : ''}${numberValue(m[2]!)}`;
}

/** A string read by PostgreSQL as `s`: as the number it reads as, or quoted. */
const stringText = (s: string): string => numericText(s) ?? quote(s, "'");

/** A `$n` placeholder as the value it is given (as node-postgres sends it: as text), or as written when none is. */
function paramText(n: string, params: readonly ParamValue[]): string {
  const i = Number(n) - 1;
  if (!(i >= 0 && i < params.length)) return `$${n}`;
  const v = params[i];
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? numberValue(String(v)) : String(v);
  return stringText(String(v));
}

/** The name a token is, folded as PostgreSQL reads it, or null for a token that is no name. */
const nameOf = (t: Token | undefined): string | null => (t && (t.kind === 'ident' || t.kind === 'qident') ? t.value : null);
const isDot = (t: Token | undefined): boolean => t?.kind === 'punct' && t.value === '.';

/** The canonical form of `body`, the tokens of one statement lexed from `sql`. */
export function canonicalStatement(sql: string, body: readonly Token[], params: readonly ParamValue[] = []): string {
  // `public.` and `pg_catalog.` before a name (not itself after a dot): the name as resolved.
  const dropped = new Set<number>();
  body.forEach((t, i) => {
    const name = nameOf(t);
    if (name !== null && PATH_SCHEMAS.has(name) && isDot(body[i + 1]) && nameOf(body[i + 2]) !== null && !isDot(body[i - 1])) dropped.add(i).add(i + 1);
  });
  return body
    .filter((_, i) => !dropped.has(i))
    .map((t) => {
      switch (t.kind) {
        case 'string': {
          const text = literalText(t);
          return text === null ? sql.slice(t.start, t.end) : stringText(text);
        }
        case 'number':
          return numberValue(t.value);
        case 'qident':
          return PLAIN_NAME.test(t.value) ? t.value : quote(t.value, '"');
        case 'param':
          return paramText(t.value, params);
        default:
          return t.value;
      }
    })
    .join(' ');
}

/** The canonical form of one analysed statement's text (facts.sql: one statement, no trailing semicolon), with its params. */
export function canonicalSql(sql: string, params: readonly ParamValue[] = []): string {
  const tokens = lex(sql).filter((t) => t.kind !== 'semicolon');
  return canonicalStatement(sql, tokens, params);
}
