/**
 * A statement as it would run whatever its spelling: its tokens (as PostgreSQL's lexer splits
 * them, lexer.ts) joined by single spaces. Keywords and unquoted identifiers are already folded to
 * lower case (PostgreSQL folds them too). A string literal counts by the text PostgreSQL reads
 * ('Bob', E'Bob', $$Bob$$ and $q$Bob$q$ are one; where Warden does not decode it, an E'' string
 * with a backslash, B'', X'' or N'', as written), a quoted identifier PostgreSQL reads as the
 * unquoted one ("orders") as that name, and a `$n` placeholder by the value `params` gives it
 * (`id = $1` with [7] is `id = 7`, with ["Bob"] `name = 'Bob'`), so another literal is another
 * statement and the same one moved into params is not. Whitespace, comments and the trailing
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

/** A `$n` placeholder as the value it is given (as node-postgres sends it), or as written when none is. */
function paramText(n: string, params: readonly ParamValue[]): string {
  const i = Number(n) - 1;
  if (!(i >= 0 && i < params.length)) return `$${n}`;
  const v = params[i];
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  return quote(String(v), "'");
}

/** The canonical form of `body`, the tokens of one statement lexed from `sql`. */
export function canonicalStatement(sql: string, body: readonly Token[], params: readonly ParamValue[] = []): string {
  return body
    .map((t) => {
      switch (t.kind) {
        case 'string': {
          const text = literalText(t);
          return text === null ? sql.slice(t.start, t.end) : quote(text, "'");
        }
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
