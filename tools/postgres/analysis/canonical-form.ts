/**
 * A statement as it would run whatever its spelling: its tokens (as PostgreSQL's lexer splits
 * them, lexer.ts) joined by single spaces. Keywords and unquoted identifiers are already folded to
 * lower case (PostgreSQL folds them too); string literals and quoted identifiers are kept exactly
 * as written (their prefix, quotes and escapes included), so another literal is another
 * statement. Whitespace, comments and the trailing semicolon are gone. Why: the deny cooldown
 * keys on it (query-database.ts cooldownArgs), so rewording a denied statement does not ask the
 * reviewers again. Approvals still bind to facts.sql, the exact text PostgreSQL receives. Computed
 * only when an approval-gated call reaches the gate, not stored with every call's facts.
 */
import { lex, type Token } from './lexer.js';

/** The canonical form of `body`, the tokens of one statement lexed from `sql`. */
export function canonicalStatement(sql: string, body: readonly Token[]): string {
  return body
    .map((t) => {
      switch (t.kind) {
        case 'string':
        case 'qident':
          return sql.slice(t.start, t.end);
        case 'param':
          return `$${t.value}`;
        default:
          return t.value;
      }
    })
    .join(' ');
}

/** The canonical form of one analysed statement's text (facts.sql: one statement, no trailing semicolon). */
export function canonicalSql(sql: string): string {
  const tokens = lex(sql).filter((t) => t.kind !== 'semicolon');
  return canonicalStatement(sql, tokens);
}
