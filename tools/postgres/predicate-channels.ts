/**
 * Predicates on masked columns (SqlFacts.predicateColumns, analysis/predicates.ts). A masked
 * column may be compared where the comparison only keeps or drops rows of the outermost query
 * (its WHERE and HAVING conjuncts, a write's WHERE), orders them (ORDER BY, DISTINCT ON) or
 * groups them (GROUP BY), naming no other relation's column: a bit per row, an order, a count of
 * equal values, the documented limits of column masking (README, Masking by lineage). Anywhere
 * else the comparison computes the output from the value, all of it in one statement: a
 * subquery's result (`(SELECT count(*) FROM generate_series(1, 255) g WHERE g <= ascii(u.email))`
 * is the first character's code), a join's other side (`JOIN generate_series(1, 255) g ON g =
 * ascii(u.email)` returns it as g, `JOIN dictionary d ON d.word = u.email` returns the email as
 * d.word), an aggregate's FILTER, a window's rank, a FROM function's rows
 * (`generate_series(1, length(email))`). Those are refused under masks, through views too (a
 * view column carrying a masked column; a computed one is refused in the outermost filters as
 * well, since it is computed in a query the view joins). Filters in more than one relation of the
 * outermost query (a self-join, set-operation branches) are a bit per row each, all of the value
 * in one statement of many: one relation may filter. A UNION (without ALL) whose branches each
 * read one table and select the same plain columns of it is `SELECT DISTINCT ... WHERE w1 OR w2
 * ...`, one bit per row however many branches, so its branches count as one relation
 * (analysis/predicates.ts sameRowsUnion); branches the output tells apart stay refused. A view
 * whose own definition uses a masked column in any condition (its own WHERE included: the view
 * is read as a subquery in FROM) is refused (checkViewPredicates). A view's row is what its
 * definition joins: beside a masked column in a row filter only its own table's columns count as
 * the same row (otherRows), none when the view self-joins the table, whose columns then each
 * count as a relation (selfJoined). DDL evaluating over every row of a masked column a definition
 * only the catalog holds (ALTER COLUMN ... TYPE to a type outside the built-in names:
 * PredicatePlace 'catalog') is refused (hiddenDefinition); VALIDATE CONSTRAINT is judged by the
 * constraint it names (constraint-oracles.ts). Deny rules refuse a table's reads whole.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import { ROW_FILTERS } from './analysis/predicates.js';
import type { PredicateColumn, PredicatePlace, SourceColumn } from './analysis/types.js';
import { lineageMasks } from './column-masking.js';
import { throughViews, VIEW_PREDICATES, VIEW_SELF_JOINS, type ViewLineages } from './view-lineage.js';


const PLACES: Record<PredicatePlace, string> = {
  'top-where': 'a WHERE condition',
  'top-order': 'an ORDER BY',
  'top-group': 'a GROUP BY',
  join: 'a join condition (JOIN ... ON or USING, or a condition, ORDER BY or GROUP BY item that also names another relation\'s column or a computed column of a subquery or function)',
  subquery: 'a subquery or WITH query (its clauses, or a value it returns into a condition)',
  filter: "an aggregate's FILTER",
  window: "a window's PARTITION BY or ORDER BY",
  catalog: 'a definition the statement does not show (the domain CHECK or cast function ALTER COLUMN ... TYPE runs for a type outside the built-in names)',
  srf: 'the arguments of a function in FROM (or TABLESAMPLE), or of a set-returning function anywhere (its rows are counted from them), of pg_sleep (its duration is timed) or the length argument of repeat, lpad, rpad or array_fill, a width format() reads (`%*s`, or a format string that is not a constant), the argument of factorial or the exponent of power (the work it sizes is timed)',
};

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) a masked column a predicate uses outside the
 * outermost query's row filters. `views` is the lineage masking followed (view-masking.ts).
 */
export function checkPredicateChannels(facts: { predicateColumns: readonly PredicateColumn[] }, views: ViewLineages, m: MaskingContext): void {
  if (!m.columns.length) return;
  checkViewPredicates(views, m);
  /** The rows (PredicateColumn.row) each table's masked columns are filtered in. */
  const rows = new Map<string, Set<string>>();
  for (const p of facts.predicateColumns) {
    const lineage = throughViews({ sources: [p.column], derived: false }, views);
    const hit = lineageMasks(m.columns, lineage);
    if (!hit.length) continue;
    // Through a view, a column computed from a masked one was computed in the view's query.
    // Through a view, a column of the same view row may be another table's, or another row of
    // the table when the view self-joins it: the item is a join.
    const joined = selfJoined(lineage.sources, hit, views);
    const where: PredicatePlace = ROW_FILTERS.has(p.where) && (lineage.derived || otherRows(p, lineage.sources, views) || (joined && !!p.alongside?.length)) ? 'join' : p.where;
    if (ROW_FILTERS.has(where)) {
      for (const { column } of hit) {
        const table = column.slice(0, column.lastIndexOf('.'));
        const seen = rows.get(table) ?? new Set<string>();
        // Each column of a self-joining view may be a row of its own.
        rows.set(table, seen.add(joined ? `${p.row ?? ''}\u0000${p.column.column}` : p.row ?? ''));
        if (seen.size > 1) throw moreRows(column);
      }
      continue;
    }
    const named = p.column.column === '*' ? `the whole row of ${p.column.table}` : `${p.column.table}.${p.column.column}`;
    if (where === 'catalog') throw hiddenDefinition(hit[0]!.column, named);
    throw new WardenError(
      ErrorCode.DENIED,
      `masked column ${hit[0]!.column} (${named}) is used in ${PLACES[where]}, whose result the statement returns computed from its value; ` +
        "under masks a masked column may be compared only in the outermost query's own WHERE, HAVING, ORDER BY or GROUP BY, against constants, parameters or columns of the same row",
      { ruleIds: ['masking.columns'], reason: 'masked column used in a predicate that feeds the output' },
    );
  }
}

/**
 * Whether a row-filter item names, beside the masked column, one that is not a plain column of a
 * table the masked column comes from (PredicateColumn.alongside, both followed through views,
 * `own` being the masked column's lineage). Of a base table the analyser records only its own
 * columns, but a view's row is what its definition joins (`user_orders`: users JOIN orders), so
 * `WHERE ascii(email) = total` over it is the join that returns the code as total; a UNION ALL
 * view's columns come from each branch's table alike. A view joining a table to itself: selfJoined.
 */
function otherRows(p: PredicateColumn, own: readonly SourceColumn[], views: ViewLineages): boolean {
  if (!p.alongside?.length || views.size === 0) return false;
  const tables = new Set(own.map((s) => s.table));
  return p.alongside.some((a) => {
    const l = throughViews({ sources: [a], derived: false }, views);
    // A column of no table is a constant a join may multiply (`LATERAL (SELECT 81 AS n UNION ALL ...)`).
    const base = l.sources.filter((s) => !views.has(s.table));
    return l.derived || base.length === 0 || base.some((s) => !tables.has(s.table));
  });
}

/**
 * Whether a view the masked column comes through (`own`, its lineage through views) reads a
 * masked table in more than one FROM item (VIEW_SELF_JOINS): `SELECT a.email, b.id FROM users a,
 * users b` holds two users rows in one of its own.
 */
function selfJoined(own: readonly SourceColumn[], hit: readonly { column: string }[], views: ViewLineages): boolean {
  if (views.size === 0) return false;
  const tables = new Set(hit.map(({ column }) => column.slice(0, column.lastIndexOf('.'))));
  return own.some((s) => views.get(s.table)?.get(VIEW_SELF_JOINS)?.sources.some((j) => tables.has(j.table)) ?? false);
}

/**
 * The refusal for DDL that evaluates, over every existing row, a definition only the catalog
 * holds (PredicatePlace 'catalog'): its success or failure, and how long it runs, are computed
 * from the masked values by an expression the masks never judged.
 */
function hiddenDefinition(column: string, named: string): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    `masked column ${column} (${named}) would be checked on every row by ${PLACES.catalog}, whose success or failure is computed from its value; ` +
      'under masks this DDL is refused on a masked column (convert the column to a built-in type; or write the CHECK in the statement, ADD CONSTRAINT ... CHECK, where it is judged like a query)',
    { ruleIds: ['masking.columns'], reason: 'masked column checked by a definition the statement does not show' },
  );
}

/** The refusal for a masked column filtered in two relations of the outermost query: each is a bit per row of its own. */
function moreRows(column: string): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    `masked column ${column} is compared in the row filters of more than one relation (a self-join, or branches of UNION, INTERSECT or EXCEPT that tell themselves apart), each a bit per row of its own, so that together they return its value; ` +
      'under masks a masked column may be compared in the filters of one relation of the outermost query: combine the conditions with OR in one query ' +
      '(a UNION, without ALL, whose branches each read only that table and select the same plain columns of it counts as that one query)',
    { ruleIds: ['masking.columns'], reason: 'masked column filtered in more than one relation' },
  );
}

/**
 * Refuse a statement reading a view whose own definition uses a masked column in a condition,
 * an ordering or a grouping, wherever in it (VIEW_PREDICATES, view-lineage.ts): the view is read
 * as a subquery in FROM, whose clauses compute the statement's rows from the value (`SELECT
 * count(*) FROM v` over a view filtering on `email LIKE 'al%'` counts those emails; a view joining
 * users to numbers on the first character's code returns the code as a number).
 */
export function checkViewPredicates(views: ViewLineages, m: MaskingContext): void {
  for (const [view, columns] of views) {
    const predicates = columns.get(VIEW_PREDICATES);
    const hit = predicates ? lineageMasks(m.columns, predicates) : [];
    if (!hit.length) continue;
    throw new WardenError(
      ErrorCode.DENIED,
      `masked column ${hit[0]!.column} is used in a condition of view ${view}'s own definition (its WHERE, HAVING, ORDER BY, GROUP BY or DISTINCT, a join condition, a subquery, a FILTER, a window or a FROM function's arguments), ` +
        'so the rows the view returns are computed from its value, as those of the same query written as a subquery in FROM are; ' +
        'under masks such a view is refused (ask an admin for a view that does not compare the column, or filter the base table in the outermost query)',
      { ruleIds: ['masking.columns'], reason: 'masked column used in a view predicate that feeds its rows' },
    );
  }
}
