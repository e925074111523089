/**
 * A PostgreSQL lexer, and the canonical text node-sql-parser is allowed to see.
 *
 * Approach (lexer-first, re-tokenise): node-sql-parser does not lex like PostgreSQL. It reads
 * backslash as an escape inside '...' (PostgreSQL, with standard_conforming_strings on, does
 * not), knows neither nested comments nor dollar-quote tags, and treats backticks as quotes.
 * Comparing its AST with our tokens after the fact is fragile, so we never let it lex the
 * agent's bytes at all. This lexer follows PostgreSQL's scan.l rules and decides every token
 * boundary, string extent, comment and statement boundary. We then rebuild a canonical text in
 * which nothing is ambiguous: comments dropped, every string literal (standard, E'', $$, B'',
 * X'', N'') replaced by a placeholder with no special characters, unquoted identifiers folded to
 * lower case (ASCII only, as PostgreSQL does), quoted identifiers re-quoted, and tokens separated
 * by spaces. The parser only analyses that text, and what runs is the original text, whose
 * tokens are the very ones we rendered. Anything we cannot render faithfully (U& escapes, stacked
 * statements, adjacent string literals, numbers glued to names, backticks, identifiers longer than
 * 63 bytes, nested dollar-quote delimiters) is refused.
 */
import { parseError } from '../../../src/tool-api.js';

/** Token kinds we distinguish; 'ident' is unquoted (already case-folded), 'qident' is quoted. */
export type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'param' | 'op' | 'punct' | 'semicolon';

/** One lexical token; `value` is the normalised text (folded identifier, string contents...). */
export interface Token {
  kind: TokenKind;
  value: string;
  start: number;
  end: number;
  /** Of a string written with a prefix (E'', B'', X'', N''): the prefix, lower-cased. */
  prefix?: 'e' | 'b' | 'x' | 'n';
}

/** Limits that keep hostile input (huge or deeply nested) away from the recursive parser. */
export const LEX_LIMITS = { maxChars: 64_000, maxTokens: 10_000, maxDepth: 64 } as const;

const OP_CHARS = new Set('+-*/<>=~!@#%^&|`?');
const PUNCT = new Set(',()[];:.');
const ID_START = /[A-Za-z_\u0080-\uffff]/;
const ID_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const SPACE = /[ \t\n\r\f\v]/;

function foldAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Tokenise SQL as PostgreSQL does; throws WARDEN_PARSE on anything unterminated or unsupported. */
export function lex(sql: string): Token[] {
  if (sql.length > LEX_LIMITS.maxChars) throw parseError(`SQL longer than ${LEX_LIMITS.maxChars} characters is refused`);
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, value: string, start: number): void => {
    out.push({ kind, value, start, end: i });
    if (out.length > LEX_LIMITS.maxTokens) throw parseError(`SQL with more than ${LEX_LIMITS.maxTokens} tokens is refused`);
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (SPACE.test(c)) { i++; continue; }
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n' && sql[i] !== '\r') i++;
      continue;
    }
    if (c === '/' && next === '*') { i = skipBlockComment(sql, i); continue; }
    const start = i;
    if (c === "'") {
      const v = readQuoted(sql, start, "'", false);
      i = lastEnd;
      push('string', v, start);
      continue;
    }
    if (c === '"') {
      const v = readQuoted(sql, start, '"', false);
      i = lastEnd;
      checkIdent(v, true);
      push('qident', v, start);
      continue;
    }
    if (c === '$') {
      const m = /^\$([0-9]+)/.exec(sql.slice(i, i + 12));
      if (m) {
        i += m[0].length;
        if (i < n && ID_CONT.test(sql[i] as string)) throw parseError('parameter followed by identifier characters is refused');
        push('param', m[1] as string, start);
        continue;
      }
      const body = readDollar(sql, start);
      i = lastEnd;
      push('string', body, start);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(?:0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(i, i + 200));
      if (!m) throw parseError('malformed number');
      i += m[0].length;
      const after = sql[i];
      if (after !== undefined && (ID_CONT.test(after) || after === '.')) throw parseError(`number "${m[0]}" followed directly by "${after}" is ambiguous and refused`);
      push('number', m[0].replace(/_/g, ''), start);
      continue;
    }
    if (ID_START.test(c)) {
      // Prefixed strings: E'..', B'..', X'..', N'..'; U&'..' and U&".." are refused.
      if ((c === 'U' || c === 'u') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
        throw parseError('Unicode escape strings and identifiers (U&) are refused');
      }
      if (next === "'" && /[EeBbXxNn]/.test(c)) {
        // PostgreSQL undoes a doubled quote in E'' and N'' (a plain '' string) but not in B'' or
        // X'': there it ends the string and starts another (refused as adjacent in canonicalize).
        const v = readQuoted(sql, i + 1, "'", c === 'E' || c === 'e', !/[BbXx]/.test(c));
        i = lastEnd;
        push('string', v, start);
        (out[out.length - 1] as Token).prefix = c.toLowerCase() as Token['prefix'];
        continue;
      }
      let j = i + 1;
      while (j < n && ID_CONT.test(sql[j] as string)) j++;
      const word = sql.slice(i, j);
      i = j;
      checkIdent(word, false);
      push('ident', foldAscii(word), start);
      continue;
    }
    if (OP_CHARS.has(c)) {
      let j = i;
      while (j < n && OP_CHARS.has(sql[j] as string)) {
        if (j > i && ((sql[j] === '-' && sql[j + 1] === '-') || (sql[j] === '/' && sql[j + 1] === '*'))) break;
        j++;
      }
      let op = sql.slice(i, j);
      // PostgreSQL strips trailing + and - unless the operator holds one of ~!@#%^&|`?
      if (op.length > 1 && !/[~!@#%^&|`?]/.test(op)) {
        while (op.length > 1 && (op.endsWith('+') || op.endsWith('-'))) op = op.slice(0, -1);
      }
      if (op.includes('`')) throw parseError('backtick operators are refused');
      i += op.length;
      push('op', op, start);
      continue;
    }
    if (PUNCT.has(c)) {
      if (c === ':' && next === ':') { i += 2; push('punct', '::', start); continue; }
      if (c === ':' && next === '=') { i += 2; push('op', ':=', start); continue; }
      i++;
      push(c === ';' ? 'semicolon' : 'punct', c, start);
      continue;
    }
    throw parseError(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
  }
  return out;
}

let lastEnd = 0;

const TOO_LONG = 'identifiers longer than 63 bytes are refused (PostgreSQL truncates them)';

/**
 * Why a name written as a quoted identifier is refused, or null. Exported so that
 * describe_database says so of a catalog name no statement can spell, instead of listing it.
 */
export function quotedIdentifierProblem(v: string): string | null {
  if (v.length === 0) return 'zero-length quoted identifier';
  if (Buffer.byteLength(v, 'utf8') > 63) return TOO_LONG;
  if (/["\u0000-\u001f\u007f`'\\]/.test(v)) return 'quoted identifier with special characters is refused';
  return null;
}

function checkIdent(v: string, quoted: boolean): void {
  const problem = quoted ? quotedIdentifierProblem(v) : Buffer.byteLength(v, 'utf8') > 63 ? TOO_LONG : null;
  if (problem) throw parseError(problem);
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') { depth++; i += 2; continue; }
    if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--; i += 2;
      if (depth === 0) return i;
      continue;
    }
    i++;
  }
  throw parseError('unterminated /* comment');
}

/** Reads '...' or "..." starting at the quote; doubled quotes escape (not in B'' and X''); E strings honour backslash. */
function readQuoted(sql: string, quoteAt: number, q: string, backslash: boolean, doubled = true): string {
  let i = quoteAt + 1;
  let v = '';
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (backslash && ch === '\\') {
      if (i + 1 >= sql.length) break;
      v += '\\' + (sql[i + 1] as string);
      i += 2;
      continue;
    }
    if (ch === q) {
      if (doubled && sql[i + 1] === q) { v += q; i += 2; continue; }
      lastEnd = i + 1;
      return v;
    }
    v += ch;
    i++;
  }
  throw parseError(q === '"' ? 'unterminated quoted identifier' : 'unterminated string literal');
}

function readDollar(sql: string, at: number): string {
  const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(at, at + 80));
  if (!m) throw parseError(`unexpected "$" at offset ${at}`);
  const tag = m[0];
  const bodyStart = at + tag.length;
  const close = sql.indexOf(tag, bodyStart);
  if (close < 0) throw parseError('unterminated dollar-quoted string');
  const body = sql.slice(bodyStart, close);
  if (/\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.test(body)) {
    throw parseError('dollar-quoted string containing another dollar-quote delimiter is refused');
  }
  lastEnd = close + tag.length;
  return body;
}

/** Statement split by top-level semicolons: PostgreSQL's view, not the parser's. */
export function splitStatements(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'semicolon') parts.push([]);
    else (parts[parts.length - 1] as Token[]).push(t);
  }
  return parts.filter((p) => p.length > 0);
}

/** Result of canonicalisation: the text for node-sql-parser and the literal values by index. */
export interface Canonical {
  text: string;
  literals: string[];
  /** By the same index, the text PostgreSQL reads for the literal, or null where Warden does not decode it (literalText). */
  texts: (string | null)[];
}

/**
 * The text PostgreSQL reads for a string token, or null where Warden does not decode it: a ''
 * string (doubled quotes undone) and a dollar-quoted body read as written, an E'' string only
 * without a backslash (escapes such as \x2e are not decoded, not guessed at); B'', X'' (bits)
 * and N'' (a typed bpchar) are not text as written.
 */
export function literalText(t: Token): string | null {
  if (t.kind !== 'string' || (t.prefix !== undefined && t.prefix !== 'e')) return null;
  return t.prefix === 'e' && t.value.includes('\\') ? null : t.value;
}

/** Canonical text of one statement's tokens (see the header comment). */
export function canonicalize(tokens: Token[]): Canonical {
  const parts: string[] = [];
  const literals: string[] = [];
  const texts: (string | null)[] = [];
  let depth = 0;
  let prev: Token | undefined;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    const nxt = tokens[k + 1];
    let piece: string;
    switch (t.kind) {
      case 'string':
        if (prev?.kind === 'string') throw parseError('adjacent string literals are refused');
        piece = `'wlit${literals.length}'`;
        literals.push(t.value);
        texts.push(literalText(t));
        break;
      case 'qident':
        piece = `"${t.value}"`;
        break;
      case 'ident':
        // ONLY is reserved in PostgreSQL: `FROM ONLY users` reads users (without children); facts
        // record it (analysis/only.ts). `ONLY (users)` means the same to PostgreSQL, while the
        // parser would read a call only(users): refused.
        if (t.value === 'only' && nxt !== undefined && (nxt.kind === 'ident' || nxt.kind === 'qident')) { prev = t; continue; }
        if (t.value === 'only' && nxt?.kind === 'punct' && nxt.value === '(') throw parseError('ONLY (table) is refused; write ONLY table, without parentheses');
        piece = t.value;
        break;
      case 'param':
        piece = `$${t.value}`;
        break;
      case 'semicolon':
        throw parseError('more than one statement is refused');
      default:
        piece = t.value;
    }
    if (t.value === '(' || t.value === '[') depth++;
    if (t.value === ')' || t.value === ']') depth--;
    if (depth > LEX_LIMITS.maxDepth) throw parseError(`nesting deeper than ${LEX_LIMITS.maxDepth} is refused`);
    const glue = (t.kind === 'punct' && t.value === '.') || (prev?.kind === 'punct' && prev.value === '.');
    parts.push(glue || parts.length === 0 ? piece : ' ' + piece);
    prev = t;
  }
  return { text: parts.join(''), literals, texts };
}
