/**
 * Trigger functions provably blind to a table's masked columns (constraint-oracles.ts): under
 * masks, a trigger firing on an UPDATE or DELETE of a table with a masked column is refused,
 * since its WHEN clause and function see the whole row (a function raising on NEW.email answers
 * a bit per row), unless Warden reads both as blind. A conservative recogniser, fail closed: what
 * it does not recognise stays refused.
 * - The function: PL/pgSQL (pg_proc.prolang, the language whose handler is pg_catalog's
 *   plpgsql_call_handler), not SECURITY DEFINER, no SET (proconfig: the session's pinned
 *   search_path resolves its names), a body (prosrc) of at most BODY_CAP characters.
 * - Its body, in tokens as PostgreSQL's scanner reads them (plpgsql-tokens.ts: comments, strings
 *   and quoted identifiers exactly; anything unusual refuses: U&, a `::` cast, a `:`), and a `.`
 *   only after NEW or OLD. Every identifier is one of: a keyword of KEYWORDS (FROM only in IS
 *   DISTINCT FROM; before `(` only an SQL reserved or column-name keyword, never a function's
 *   name, or IF, ELSIF, RETURN at a statement's start: `AND if(x)` calls a function if), a
 *   trigger variable (TG_OP, TG_ARGV, ...; not before `(`), a function of FUNCTIONS called
 *   (followed by `(`), NEW or OLD followed by `.` and a column (quoted or not, folded as
 *   PostgreSQL folds; not followed by `.` or `(`: `NEW.f(1)` calls new.f), a whole NEW, OLD in
 *   `RETURN NEW;` / `RETURN OLD;`, or a variable of the leading DECLARE section
 *   (plpgsql-declare.ts: built-in scalar types; not followed by `(`, `.`, `[`, a literal or a
 *   name). So no SELECT, PERFORM, EXECUTE, INSERT, UPDATE, DELETE, CALL, cursor, loop, RECORD or
 *   %ROWTYPE variable, user function or other whole-row use (row_to_json(NEW), NEW::text, r := NEW)
 *   passes. Every operator is one of OPERATORS (or `!=`, `:=`).
 * - A column read through NEW or OLD is neither masked (compared case-insensitively) nor of a
 *   type outside pg_catalog (a domain's CHECK or a user type's cast or operator is user code);
 *   no identifier at all spells a masked column's name.
 * - No function of FUNCTIONS' names and no operator of OPERATORS' names that the body uses (IN,
 *   IS DISTINCT FROM, CASE, NULLIF use `=`; BETWEEN `<=` and `>=`) exists outside pg_catalog (the
 *   catalog says, `shadowed`): a better match in public would be called instead.
 * - Its WHEN clause, if any: reads no masked column, no whole row, no column of a user type,
 *   calls only IMMUTABLE functions of pg_catalog (as a CHECK is judged; a pg_catalog function
 *   that is not IMMUTABLE may run a query: query_to_xml). Or it is exactly `OLD.* IS DISTINCT
 *   FROM NEW.*` (trigger-facts.ts) under an UPDATE writing, column by column, no masked column,
 *   of a table whose columns' equality is built in (rowsDistinctWhy).
 * - The body may compare the whole rows, `NEW IS [NOT] DISTINCT FROM OLD` (or OLD first), as an
 *   operand of loosely binding neighbours only (rowsCompared): judged as that WHEN clause. Its
 *   outcome, whatever the body does with it (a branch, a stamp), depends on the unmasked columns
 *   only: the masked ones are equal in OLD and NEW (no blind code names them). Fired by a DELETE,
 *   NEW is NULL: the comparison answers alike for every row, not judged (blindTrigger).
 * - Or the function is contrib's moddatetime (trigger-facts.ts): it sets the column it names to
 *   the time and reads nothing; that column counts as written.
 * A blind trigger's NEW and OLD columns count as written by the statement (a BEFORE trigger may
 * set them: `NEW.stamp := NEW.stamp + 1` under `CHECK (stamp = 0 OR ascii(email) <> 99)`).
 * The facts come with the trigger in the constraint catalog's one cached query.
 */
import type { MaskingContext } from '../../src/tool-api.js';
import type { TableConstraint } from './constraint-catalog.js';
import { readDeclare } from './plpgsql-declare.js';
import { tokenize, type Token } from './plpgsql-tokens.js';
import { rowsCompared, rowsDistinctWhy } from './trigger-rows.js';

/** The catalog's facts of a trigger (constraint-catalog.ts TableConstraint.trigger). */
export interface TriggerFacts {
  /** Why the function is not read (not PL/pgSQL, SECURITY DEFINER, SET, too long), or null. */
  refused: string | null;
  /** Its body (pg_proc.prosrc) when it is read; null otherwise. */
  body: string | null;
  /** It has a WHEN clause; the columns it reads, a whole row, a function not IMMUTABLE, one outside pg_catalog. */
  when: boolean;
  whenColumns: string[];
  whenWholeRow: boolean;
  whenMutable: boolean;
  whenOpaque: boolean;
  /** The columns of the trigger's table whose type lies outside pg_catalog. */
  userTyped: string[];
  /** The names of FUNCTIONS, OPERATORS and TYPES (plpgsql-declare.ts) that also exist outside pg_catalog. */
  shadowed: string[];
  /** The WHEN clause is exactly `OLD.* IS DISTINCT FROM NEW.*` (trigger-facts.ts); then, or when the body read says DISTINCT, whether a user operator class serves a type of pg_catalog. */
  whenRowsDistinct: boolean;
  userEquality: boolean;
  /** The column contrib's moddatetime sets, when the function is it (trigger-facts.ts); null otherwise. */
  moddatetime: string | null;
}

/** The longest body read (characters). */
export const BODY_CAP = 20_000;

/** Built-in functions a blind body may call: they compute on their arguments and read no table. */
export const FUNCTIONS: readonly string[] = [
  'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'lower', 'upper', 'btrim', 'ltrim',
  'rtrim', 'length', 'char_length', 'substr', 'replace', 'concat', 'concat_ws', 'md5', 'date_trunc', 'to_char', 'gen_random_uuid',
  'abs', 'round', 'floor', 'ceil',
];

/** Operators a blind body may use (`!=` is `<>`; `:=` is PL/pgSQL's assignment, no operator). */
export const OPERATORS: readonly string[] = ['=', '<>', '<', '>', '<=', '>=', '+', '-', '*', '/', '||'];
const OPERATOR_TOKENS = new Set([...OPERATORS, '!=', ':=']);

/** Keywords a blind body may hold (none reads or runs anything; COALESCE and its kind are expressions, not calls). */
const KEYWORDS = new Set([
  'begin', 'end', 'if', 'then', 'else', 'elsif', 'elseif', 'return', 'null', 'true', 'false', 'and', 'or', 'not', 'is', 'distinct',
  'case', 'when', 'in', 'between', 'raise', 'exception', 'notice', 'warning', 'info', 'log', 'debug', 'using', 'message', 'detail',
  'hint', 'errcode', 'current_timestamp', 'current_date', 'current_time', 'localtimestamp', 'localtime', 'coalesce', 'nullif',
  'greatest', 'least',
]);

/**
 * Keywords that may stand before `(` anywhere: reserved or column-name keywords of SQL, never a
 * function's name. IF, ELSIF and RETURN are no SQL keywords (`AND if(x)` calls a function if): before
 * `(` only at a statement's start (after `;` or BEGIN).
 */
const PAREN_SAFE = new Set(['and', 'or', 'not', 'in', 'when', 'then', 'else', 'case', 'end', 'coalesce', 'nullif', 'greatest', 'least',
  'between', 'distinct', 'null', 'true', 'false', 'current_timestamp', 'current_date', 'current_time', 'localtimestamp', 'localtime']);
const STATEMENT_PAREN = new Set(['if', 'elsif', 'elseif', 'return']);

/** PL/pgSQL's trigger variables (plain reads). */
const TG_VARS = new Set(['tg_op', 'tg_when', 'tg_level', 'tg_name', 'tg_table_name', 'tg_table_schema', 'tg_relid', 'tg_relname', 'tg_nargs', 'tg_argv']);

/** The operators a keyword uses. */
const IMPLIED: Record<string, readonly string[]> = { in: ['='], distinct: ['='], case: ['='], nullif: ['='], between: ['<=', '>='] };

/** What a body reads, mask aside: the columns through NEW and OLD, every identifier, the calls, operators and types; or why it is not read. */
interface Reading {
  fields: string[];
  idents: string[];
  names: string[];
  /** It compares the whole rows (`NEW IS DISTINCT FROM OLD`: rowsCompared). */
  rows: boolean;
}

/** The body's reading (see the top of the file), mask aside. */
export function readBody(src: string): Reading | string {
  const toks = tokenize(src);
  if (typeof toks === 'string') return toks;
  const declared = readDeclare(toks, (v) => KEYWORDS.has(v) || TG_VARS.has(v) || FUNCTIONS.includes(v));
  if (typeof declared === 'string') return declared;
  const fields: string[] = [];
  let rows = false;
  const idents: string[] = [...declared.vars];
  const names = new Set<string>(declared.types);
  const at = (j: number): Token | undefined => toks[j];
  const is = (j: number, k: Token['k'], v?: string) => at(j)?.k === k && (v === undefined || at(j)!.v === v);
  for (let i = 0; i < toks.length; i++) {
    if (declared.skip.has(i)) continue;
    const t = toks[i]!;
    if (t.k === 'qid') return `the quoted identifier "${t.v}" outside NEW."col" or OLD."col"`;
    if (t.k === 'op') {
      if (!OPERATOR_TOKENS.has(t.v)) return `the operator ${t.v}`;
      if (t.v !== ':=') names.add(t.v === '!=' ? '<>' : t.v);
      continue;
    }
    if (t.k === 'p' && t.v === '.') return 'a qualified name';
    if (t.k !== 'id') continue;
    idents.push(t.v);
    if (t.v === 'new' || t.v === 'old') {
      // NEW.col( would call a function col of a schema new.
      if (is(i + 1, 'p', '.') && (is(i + 2, 'id') || is(i + 2, 'qid')) && !is(i + 3, 'p', '.') && !is(i + 3, 'p', '(')) {
        fields.push(toks[i + 2]!.v);
        idents.push(toks[i + 2]!.v);
        i += 2;
        continue;
      }
      if (is(i - 1, 'id', 'return') && is(i + 1, 'p', ';')) continue;
      // The two whole rows compared (record `=`, judged in blindTrigger as a WHEN clause comparing them).
      const span = rowsCompared(toks, i);
      if (span) {
        rows = true;
        names.add('=');
        i += span - 1;
        continue;
      }
      return `the whole row ${t.v.toUpperCase()} used otherwise than in RETURN ${t.v.toUpperCase()};`;
    }
    if (t.v === 'from') {
      if (is(i - 1, 'id', 'distinct')) continue;
      return 'FROM';
    }
    const paren = is(i + 1, 'p', '(');
    const statementStart = i === 0 || is(i - 1, 'p', ';') || is(i - 1, 'id', 'begin');
    if (KEYWORDS.has(t.v) && (!paren || PAREN_SAFE.has(t.v) || (STATEMENT_PAREN.has(t.v) && statementStart))) {
      for (const o of IMPLIED[t.v] ?? []) names.add(o);
      continue;
    }
    if (TG_VARS.has(t.v) && !paren) continue;
    if (declared.vars.has(t.v)) {
      // A variable read or assigned: followed by an operator, `)`, `,`, `;` or a keyword, never `(`, `.`, `[`, a literal or a name.
      const next = at(i + 1);
      if (!next || (next.k === 'p' && '(.['.includes(next.v)) || next.k === 'str' || next.k === 'num' || next.k === 'qid' || (next.k === 'id' && !KEYWORDS.has(next.v))) {
        return `the variable ${t.v} followed by ${next ? next.v : 'nothing'}`;
      }
      continue;
    }
    if (paren && FUNCTIONS.includes(t.v)) {
      names.add(t.v);
      continue;
    }
    return paren ? `a call of ${t.v}, not one of the built-in functions Warden knows read nothing` : `the word ${t.v.toUpperCase()}`;
  }
  return { fields, idents, names: [...names], rows };
}

/** Readings by the facts object they come from (cached with it in the constraint catalog). */
const READINGS = new WeakMap<TriggerFacts, Reading | string>();

/**
 * Whether the trigger is blind to `masked` (the masked columns of its table, by name): the
 * columns its function reads or writes through NEW and OLD, or the column moddatetime sets
 * (count them as written), or why not. `written`: what the statement writes, column by column
 * (null: not known so, or a DELETE), which a WHEN clause `OLD.* IS DISTINCT FROM NEW.*` needs.
 * `deleting`: the trigger fires on a DELETE, where PL/pgSQL's NEW is NULL (before PostgreSQL 11,
 * unassigned: an error for every row alike), so a body's `OLD IS DISTINCT FROM NEW` is true for
 * every row, found without calling the rows' equality (a NULL operand decides IS DISTINCT FROM):
 * not judged. A DELETE trigger's WHEN clause cannot name NEW (PostgreSQL refuses it).
 */
export function blindTrigger(f: TriggerFacts | undefined, masked: readonly string[], written: readonly string[] | null = null, deleting = false): { columns: string[] } | { why: string } {
  if (!f) return { why: 'the catalog does not say what it runs' };
  const hidden = new Set(masked.map((c) => c.toLowerCase()));
  const userTyped = new Set(f.userTyped.map((c) => c.toLowerCase()));
  if (f.when) {
    const rows = f.whenRowsDistinct ? rowsDistinctWhy(f, hidden, written) : null;
    if (rows) return { why: rows };
    if (f.whenWholeRow && !f.whenRowsDistinct) return { why: 'its WHEN clause reads a whole row' };
    const bad = f.whenColumns.find((c) => hidden.has(c.toLowerCase()) || userTyped.has(c.toLowerCase()));
    if (bad) return { why: `its WHEN clause reads ${bad}` };
    if (f.whenMutable || f.whenOpaque) return { why: 'its WHEN clause calls a function that is not IMMUTABLE or lies outside pg_catalog' };
  }
  // contrib's moddatetime sets the column it names to the time and reads nothing (a wrong column or type fails for every row).
  if (f.moddatetime !== null) return { columns: [f.moddatetime] };
  if (f.body === null) return { why: `its function ${f.refused ?? 'is not read'}` };
  let r = READINGS.get(f);
  if (r === undefined) READINGS.set(f, (r = readBody(f.body)));
  if (typeof r === 'string') return { why: `its function holds ${r}` };
  // Its function compares the whole rows: as the WHEN clause doing so is judged (rowsDistinctWhy).
  const rows = r.rows && !deleting ? rowsDistinctWhy(f, hidden, written, 'its function compares the whole rows OLD and NEW') : null;
  if (rows) return { why: rows };
  const named = r.idents.find((v) => hidden.has(v.toLowerCase()));
  if (named) return { why: `its function names ${named}` };
  const typed = r.fields.find((v) => userTyped.has(v.toLowerCase()));
  if (typed) return { why: `its function reads ${typed}, of a type outside pg_catalog` };
  const shadowed = r.names.find((v) => f.shadowed.includes(v));
  if (shadowed) return { why: `its function uses ${shadowed}, which also exists outside pg_catalog` };
  return { columns: [...new Set(r.fields)] };
}

/** The names of the masked columns of `tables` (a trigger's table and the relation written). */
function maskedNames(m: MaskingContext, tables: readonly string[]): string[] {
  const of = (mc: { column: string }) => mc.column.lastIndexOf('.');
  return m.columns.filter((mc) => tables.includes(mc.column.slice(0, of(mc)))).map((mc) => mc.column.slice(of(mc) + 1));
}

/**
 * Why the trigger `k` is not read as blind to the masked columns of `tables` (its table, the
 * relation written), or null when it is; `written` and `deleting` as blindTrigger's.
 */
export function notBlind(k: TableConstraint, m: MaskingContext, tables: readonly string[], written: readonly string[] | null = null, deleting = false): string | null {
  const b = blindTrigger(k.trigger, maskedNames(m, tables), written, deleting);
  return 'why' in b ? b.why : null;
}

/**
 * Whether a trigger fires on an UPDATE: an UPDATE trigger whose UPDATE OF list the statement
 * names (or none, or columns not known one by one), a partition's INSERT or DELETE trigger when a row moves.
 */
export const triggerFires = (k: TableConstraint, columnwise: boolean, written: readonly string[], moves: boolean): boolean =>
  (k.events.includes('u') && (!columnwise || !k.columns.length || k.columns.some((c) => written.includes(c)))) || (k.events.includes('m') && moves);

type Written = { written: string[]; moves: boolean };

/**
 * What an UPDATE of `relation` writing `listed` (column by column) writes, grown by the columns
 * the blind triggers that fire name through NEW and OLD (a BEFORE trigger may set them), until no
 * more fire; `derive` says what a column list writes (generated columns) and whether a row moves.
 */
export function withTriggerWrites(ks: readonly TableConstraint[], listed: readonly string[], derive: (cols: string[]) => Written, m: MaskingContext, relation: string): Written {
  let cols = [...listed];
  let w = derive(cols);
  for (let more = true; more;) {
    more = false;
    for (const k of ks) {
      if (k.type !== 't' || !triggerFires(k, true, w.written, w.moves)) continue;
      const b = blindTrigger(k.trigger, maskedNames(m, [k.table, relation]), w.written);
      for (const c of 'columns' in b ? b.columns : []) if (!cols.includes(c)) (cols = [...cols, c]), (more = true);
    }
    if (more) w = derive(cols);
  }
  return w;
}
