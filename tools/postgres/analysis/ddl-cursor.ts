/**
 * A cursor over one DDL statement's tokens, for the grammar in ddl.ts and ddl-table.ts. Why a
 * hand-written grammar: node-sql-parser's PostgreSQL DDL is MySQL-shaped (it reads
 * `CREATE TABLE t (a, b) AS ...` as the call t(a, b), drops index options, and fails on most
 * constraints), and a grant cannot rest on a half-read statement. Every token is either matched
 * here as a keyword, a name, a type or a column list, or handed whole to the expression
 * analyser; so a `name(` outside an expression can only be a shape this grammar expects.
 */
import { parseError } from '../../../src/tool-api.js';
import type { Token } from './lexer.js';

/** Words that may follow a type name's first word (double precision, timestamp with time zone, interval day to second, int array). */
const TYPE_WORDS = new Set(['precision', 'varying', 'with', 'without', 'time', 'zone', 'year', 'month', 'day', 'hour', 'minute', 'second', 'to', 'array']);

/** Walks the tokens of one statement; every failure is a WARDEN_PARSE naming the statement. */
export class Cursor {
  i = 0;

  constructor(
    readonly toks: readonly Token[],
    readonly what: string,
  ) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }

  get done(): boolean {
    return this.i >= this.toks.length;
  }

  /** Whether the token k ahead is the unquoted keyword `w` (a quoted "w" is a name). */
  is(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'ident' && t.value === w;
  }

  isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'punct' && t.value === p;
  }

  /** Consume the keywords `ws` when they are all next, in order; otherwise consume nothing. */
  accept(...ws: string[]): boolean {
    if (!ws.every((w, k) => this.is(w, k))) return false;
    this.i += ws.length;
    return true;
  }

  expect(...ws: string[]): void {
    if (!this.accept(...ws)) this.fail(`expected ${ws.join(' ').toUpperCase()}`);
  }

  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.i++;
    return true;
  }

  /** One identifier, unquoted (folded) or quoted. */
  name(): string {
    const t = this.peek();
    if (t?.kind !== 'ident' && t?.kind !== 'qident') this.fail('expected a name');
    this.i++;
    return t.value;
  }

  /** A dotted name: name(.name)*, as written (at most three parts). */
  qname(): string[] {
    const parts = [this.name()];
    while (this.isPunct('.')) {
      this.i++;
      parts.push(this.name());
      if (parts.length > 3) this.fail('too many name parts');
    }
    return parts;
  }

  /** The tokens between '(' and its matching ')', both consumed. */
  group(): Token[] {
    if (!this.isPunct('(')) this.fail('expected "("');
    let depth = 0;
    for (let j = this.i; j < this.toks.length; j++) {
      const t = this.toks[j] as Token;
      if (t.kind !== 'punct') continue;
      if (t.value === '(') depth++;
      if (t.value === ')' && --depth === 0) {
        const inner = this.toks.slice(this.i + 1, j);
        this.i = j + 1;
        return inner;
      }
    }
    return this.fail('unbalanced parentheses');
  }

  /** A parenthesised list of plain names: `(a, "B", c)`; anything else in it is refused. */
  nameList(): string[] {
    return new Cursor(this.group(), this.what).names();
  }

  /** The remaining tokens as a list of plain names: `a, "B", c`. */
  names(): string[] {
    const names = [this.name()];
    while (this.acceptPunct(',')) names.push(this.name());
    this.end('expected a list of column names');
    return names;
  }

  /**
   * The tokens of an expression, up to (not including) a ',' or ')' at depth 0, the end, or a
   * token where `stop` says a new clause begins (never the first token: `DEFAULT NULL`).
   * Parentheses, brackets and CASE ... END nest, so `CASE WHEN x IS NOT NULL` stays whole.
   */
  until(stop: (c: Cursor) => boolean): Token[] {
    const start = this.i;
    let depth = 0;
    for (; !this.done; this.i++) {
      const t = this.peek() as Token;
      if (depth === 0 && ((t.kind === 'punct' && (t.value === ',' || t.value === ')')) || (this.i > start && stop(this)))) break;
      if ((t.kind === 'punct' && (t.value === '(' || t.value === '[')) || (t.kind === 'ident' && t.value === 'case')) depth++;
      if ((t.kind === 'punct' && (t.value === ')' || t.value === ']')) || (t.kind === 'ident' && t.value === 'end')) depth--;
    }
    if (this.i === start) this.fail('expected an expression');
    return this.toks.slice(start, this.i);
  }

  /** Every remaining token. */
  rest(): Token[] {
    const out = this.toks.slice(this.i);
    this.i = this.toks.length;
    return out;
  }

  /**
   * A type name: [schema.]name, the words of multi-word types, numeric modifiers (`(10, 2)`)
   * and array bounds. Modifiers must be numbers: PostgreSQL accepts only constants there, and a
   * call could otherwise sit where no expression is analysed.
   */
  type(): void {
    this.qname();
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'ident' && TYPE_WORDS.has(t.value)) {
        if ((t.value === 'with' || t.value === 'without') && !(this.is('time', 1) && this.is('zone', 2))) return;
        this.i++;
      } else if (this.isPunct('(')) {
        const mods = this.group();
        const ok = mods.length > 0 && mods.every((m, k) => (k % 2 === 1 ? m.kind === 'punct' && m.value === ',' : m.kind === 'number'));
        if (!ok || mods.length % 2 === 0) this.fail('type modifiers must be numbers, as in numeric(10, 2)');
      } else if (this.isPunct('[')) {
        this.i++;
        if (this.peek()?.kind === 'number') this.i++;
        if (!this.acceptPunct(']')) this.fail('expected "]"');
      } else {
        return;
      }
    }
  }

  /** Fail (with `msg`) unless every token was consumed. */
  end(msg = 'unexpected text'): void {
    if (!this.done) this.fail(msg);
  }

  fail(msg: string, details: Record<string, unknown> = {}): never {
    const t = this.peek();
    const at = t ? ` near ${JSON.stringify(t.kind === 'string' ? "'...'" : t.value)}` : ' at the end';
    throw parseError(`${this.what}: ${msg}${at}`, details);
  }
}
