/**
 * Facts about one SQL input, as the policy and the executor need them.
 * Produced by `analyzeSql` (analysis/index.ts); consumed by the `sql:` condition and the connector.
 */
import type { Facts } from '../../../src/tool-api.js';

/** A column reference in lineage: schema.table.column, all lower-case (or '*' for the whole row). */
export interface SourceColumn {
  table: string; // schema-qualified, e.g. public.users
  column: string; // column name, or '*' when the whole row (u, u.*, row_to_json(u)) flows
}

/** Where one output column of a SELECT comes from. */
export interface OutputColumnLineage {
  /** Output name as PostgreSQL will label it (alias or column name or ?column?). */
  name: string;
  /** Base columns that flow into it (through CTEs, subqueries, unions, expressions). */
  sources: SourceColumn[];
  /** True when the value is computed (function, cast, operator, aggregate, CASE...), not a plain reference. */
  derived: boolean;
  /**
   * Set when the entry is a `*` analysis could not expand: PostgreSQL returns any number of
   * columns for it. 'table' when it is a base table's columns, each of which PostgreSQL's field
   * metadata names (table and column); 'other' when they carry no table (a set operation, a
   * function source), so only the lineage here says what they hold.
   */
  star?: 'table' | 'other';
}

/**
 * A value a statement stores (INSERT, UPDATE SET, CREATE TABLE AS, SELECT INTO, ALTER TABLE
 * ... USING, a generated column): the written relation and column, and where the value comes from.
 */
export interface StoredLineage {
  /** The written relation, schema-qualified like `writes`. */
  table: string;
  /** The written column, or '*' when analysis cannot tell which (INSERT without a column list next to a `*`). */
  column: string;
  /** Base columns (or view columns) whose values flow into it, '*' for a whole row. */
  sources: SourceColumn[];
  /** True when the value is computed from them rather than copied as is. */
  derived: boolean;
}

/** A value's size bound: `bytes` as written (a literal, a small integer, NULL), or `param` the $n whose text it is; neither: computed, not known. */
export interface ValueSize {
  bytes?: number;
  param?: number;
  /** The value is NULL (stored as no bytes, never padded into a char(n) column). */
  none?: boolean;
}

/**
 * One SET item's value: `bytes` an upper bound of its size (a string literal's text as written,
 * a small integer), `param` the number of a parameter ($n) whose text is its value; neither when
 * it is computed (an expression, a cast, a column, DEFAULT): its size is not known. `excluded`:
 * a DO UPDATE's `EXCLUDED.col`, sized as the largest of these (what each row of the INSERT's
 * VALUES gives col, each sized so; a BEFORE INSERT trigger may change them: sized-writes.ts).
 * `same`: the column set to itself (`SET id = id`, an UPDATE's), its value unchanged.
 */
export interface SetSize extends ValueSize {
  table: string;
  column: string;
  excluded?: ValueSize[];
  same?: boolean;
}

/**
 * Where a predicate (or a clause that compares, orders, groups or counts rows) uses a column:
 * - 'top-where': a conjunct of the outermost query's WHERE or HAVING (or a write's WHERE, or
 *   the outermost LIMIT) that compares one relation's columns of the same row with constants,
 *   parameters or subquery values no other relation's column feeds: it only keeps or drops rows;
 * - 'top-order': an outermost ORDER BY or DISTINCT ON item of the same kind;
 * - 'top-group': an outermost GROUP BY item of the same kind;
 * - 'join': a JOIN's ON or USING (NATURAL JOIN: every column), or an outermost conjunct or item
 *   that also names another relation's column (an outer one too), or a computed column of a
 *   subquery or function in FROM: what it compares, the other side returns;
 * - 'subquery': any clause but the select list of a query inside the statement (scalar, EXISTS,
 *   IN, ANY, LATERAL, a subquery or CTE in FROM or WITH): its result feeds the outer query;
 * - 'filter': an aggregate's FILTER (WHERE ...); 'window': a window's PARTITION BY or ORDER BY;
 * - 'srf': the arguments of a function in FROM (its rows are computed from them), TABLESAMPLE, and of a
 *   set-returning function anywhere else (a select list, ORDER BY, GROUP BY: it multiplies the rows),
 *   of pg_sleep, and the length argument of repeat, lpad, rpad and array_fill, a width format() reads, factorial's argument and power's exponent (a duration the agent times);
 * - 'catalog': DDL evaluating over every existing row a definition only the catalog holds (the
 *   domain CHECK or cast ALTER COLUMN ... TYPE runs for a type outside the built-in names: the
 *   column; what VALIDATE CONSTRAINT checks is looked up by name: validatedConstraints).
 */
export type PredicatePlace = 'top-where' | 'top-order' | 'top-group' | 'join' | 'subquery' | 'filter' | 'window' | 'srf' | 'catalog';

/** One column a predicate uses, and where (SqlFacts.predicateColumns). */
export interface PredicateColumn {
  column: SourceColumn;
  where: PredicatePlace;
  /**
   * At a row filter (top-where, top-order, top-group): which relation of the outermost query the
   * filtered row is, as ids of the FROM items it may be (one, unless a bare name is ambiguous),
   * unique within the statement. Each relation filtered on a value is a bit per row of its own
   * (a self-join, set-operation branches), so masking lets one relation filter on a masked column.
   */
  row?: string;
  /**
   * At a row filter: the other columns an item comparing this one also names as columns of the
   * same row (`WHERE ascii(email) = id`), merged over the items. Of a base table they are its
   * row's; a view's row is whatever its definition joins, so through a view each must be the
   * masked column's own table's (predicate-channels.ts): else the item is a join.
   */
  alongside?: SourceColumn[];
}

/** Facts of a single analysed SQL statement. */
export interface SqlFacts extends Facts {
  family: 'sql';
  /** Statement kinds anywhere in the statement, including nested (CTE bodies): select, insert, update, delete, drop, ... */
  statements: string[];
  /** The top-level statement kind. */
  topLevel: string;
  /** Tables (schema-qualified, lower-case) read anywhere. */
  reads: string[];
  /** Tables written anywhere (insert/update/delete/merge/truncate/DDL target/SELECT INTO). */
  writes: string[];
  /**
   * Columns written anywhere (also in a data-modifying CTE or under EXPLAIN), by table, then
   * column: an UPDATE's SET columns, an INSERT's column list, ON CONFLICT ... DO UPDATE's SET
   * columns. Column '*' when the statement writes (or may write) the whole row: DELETE, INSERT
   * without a column list, TRUNCATE, DDL on the relation (CREATE TABLE AS, SELECT INTO, ALTER,
   * DROP, COMMENT, GRANT...), and any write analysis cannot tell column by column. Every table
   * of `writes` has at least one entry. Judged by `write_columns:` (sql-condition.ts).
   */
  writtenColumns: SourceColumn[];
  /** Functions called anywhere, normalised: lower-case, schema stripped when pg_catalog/none; else schema.name. */
  functions: string[];
  /**
   * Settings read through current_setting(name) (pg_catalog's, any spelling), one entry per
   * distinct name: the name lower-cased (PostgreSQL compares them case-insensitively) when it is a
   * string constant Warden reads as PostgreSQL does, null when it is not (a column, a parameter,
   * an expression, an E'' string with escapes, a cast other than to text or varchar) or the call
   * is a column form (`t.current_setting`). analysis/settings.ts; refused by setting-reads.ts.
   */
  settings: (string | null)[];
  /** Constructs that are not plain reads: for_update, select_into, data_modifying_cte, lock, set, copy, ... */
  constructs: string[];
  /**
   * Relations the statement names only as `ONLY name`: their child tables and partitions are not
   * reached, so masks and deny rules on those do not follow them (analysis/only.ts). Every
   * other relation, named without ONLY, returns (or changes) its descendants' rows too.
   */
  onlyRelations: string[];
  /** Lineage of the output columns (top-level SELECT, or a RETURNING list; empty otherwise). Star expands only when the catalog is known. */
  output: OutputColumnLineage[];
  /**
   * Lineage of every value drawn from a column that the statement writes into a table (anywhere,
   * also in a data-modifying CTE or under EXPLAIN); constants and parameters are not listed.
   * Predicates (WHERE, JOIN ON, ORDER BY) store nothing and are not listed either (predicateColumns lists them). Masking refuses a statement that stores a masked column's value (masked-copies.ts).
   */
  stored: StoredLineage[];
  /**
   * Every column (base table, view or '*' for a whole row) that a predicate, join, grouping,
   * ordering, window, aggregate FILTER or FROM function uses, with its place, one entry per
   * column and place (analysis/predicates.ts). Analysis has no catalog: masking knows which are
   * masked, and refuses those outside the outermost query's own row filters
   * (predicate-channels.ts).
   */
  predicateColumns: PredicateColumn[];
  /**
   * Tables more than one FROM item reads, anywhere in the statement (a self-join); absent when
   * none. A view defined so has rows holding two of the table's rows (predicate-channels.ts).
   */
  selfJoined?: string[];
  /**
   * The constraints ALTER TABLE ... VALIDATE CONSTRAINT names, by table; absent when none. What
   * each reads only the catalog knows (constraint-oracles.ts).
   */
  validatedConstraints?: { table: string; name: string }[];
  /**
   * What each SET item of an UPDATE (or of INSERT ... ON CONFLICT DO UPDATE) writes, sized where
   * a bound is known; absent when the statement has none. Judged beside a masked column sharing an
   * index with the written one (sized-writes.ts).
   */
  setSizes?: SetSize[];
  /** True when the output contains * or t.* that analysis could not expand without a catalog. */
  hasStar: boolean;
  /** The exact text that will be sent to PostgreSQL (single statement, no trailing semicolon). */
  sql: string;
  /** True when every statement kind is a read (select/values/explain without analyze...). */
  readOnly: boolean;
  /**
   * Base-table columns the statement names through a qualifier (`u.email`). PostgreSQL reads
   * `u.x` as the call `x(u)` when the table has no column x, so each must exist in the catalog
   * before the statement runs (the executor checks; analysis has no catalog).
   */
  qualifiedColumns: SourceColumn[];
  /**
   * Base-table columns the statement reads anywhere (select list, WHERE, JOIN ON and USING,
   * GROUP BY, ORDER BY, subqueries, RETURNING, CTE bodies...), column '*' when it reads every
   * column: `*`, `t.*`, a whole-row reference (`t`, `row_to_json(t)`), a table renamed with
   * AS t(a, b), NATURAL JOIN. An unqualified name counts for every table in scope (analysis has
   * no catalog). For the catalog columns no mask follows (catalog-columns.ts).
   */
  readColumns: SourceColumn[];
  /**
   * Relations written `pg_x` without a schema, which facts report as pg_catalog.pg_x. PostgreSQL
   * (search_path pg_catalog, public, pg_temp) reads public.pg_x instead when pg_catalog has no
   * pg_x, so the executor refuses the statement unless pg_catalog has each (analysis has no catalog).
   */
  unqualifiedPgRelations: string[];
  /**
   * Functions called `pg_f(...)` (or `t.pg_f`) without a schema, which facts spell like the
   * pg_catalog ones. A function named pg_f in public is a candidate too (and wins when it is the
   * only one or matches the arguments better), so the executor refuses when public has one.
   */
  unqualifiedPgFunctions: string[];
  /**
   * Every function called without a schema (`lower(x)`, `count(*)`, the column form `t.f`), as
   * facts spell it (a superset of unqualifiedPgFunctions). PostgreSQL weighs public's functions
   * of that name against pg_catalog's and calls one of public's when it matches the arguments
   * better (public.lower(int) for lower(1)), while facts named the built-in, so the executor
   * refuses the statement when public has a function of that name (analysis has no catalog).
   */
  unqualifiedFunctions: string[];
  /**
   * Every operator name the statement writes or its syntax implies (`=` for IN, `~~` for LIKE:
   * analysis/operators.ts), sorted. PostgreSQL picks among the operators of a name on the search
   * path by argument types, so the executor refuses the statement when an operator of one of
   * these names lies outside pg_catalog and no extension owns it (user-operators.ts).
   */
  operators: string[];
  /**
   * Calls of functions outside pg_catalog (named with their schema: `public.explode(email)`, as
   * facts spell them), each with the base (or view) columns its arguments draw from, '*' for a
   * whole row; calls fed no column are not listed. Such a function may return a set, its rows
   * then counted from its arguments as a built-in set-returning function's are (predicateColumns
   * at 'srf'), but only the catalog says which do (analysis has none), so the executor asks it
   * when a masked column is among them (set-returning-calls.ts).
   */
  qualifiedFunctionArguments: { function: string; sources: SourceColumn[] }[];
}
