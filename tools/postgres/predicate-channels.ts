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
 * well, since it is computed in a query the view joins). Deny rules refuse a table's reads whole.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { PredicateColumn, PredicatePlace } from './analysis/types.js';
import { lineageMasks } from './column-masking.js';
import { throughViews, type ViewLineages } from './view-lineage.js';

/** The places a masked column may be used at: the outermost query's own row filters. */
const ROW_FILTERS: ReadonlySet<PredicatePlace> = new Set(['top-where', 'top-order', 'top-group']);

const PLACES: Record<PredicatePlace, string> = {
  'top-where': 'a WHERE condition',
  'top-order': 'an ORDER BY',
  'top-group': 'a GROUP BY',
  join: 'a join condition (JOIN ... ON or USING, or a condition, ORDER BY or GROUP BY item that also names another relation\'s column or a computed column of a subquery or function)',
  subquery: 'a subquery or WITH query (its clauses, or a value it returns into a condition)',
  filter: "an aggregate's FILTER",
  window: "a window's PARTITION BY or ORDER BY",
  srf: 'the arguments of a function in FROM (or TABLESAMPLE)',
};

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) a masked column a predicate uses outside the
 * outermost query's row filters. `views` is the lineage masking followed (view-masking.ts).
 */
export function checkPredicateChannels(facts: { predicateColumns: readonly PredicateColumn[] }, views: ViewLineages, m: MaskingContext): void {
  if (!m.columns.length) return;
  for (const p of facts.predicateColumns) {
    const lineage = throughViews({ sources: [p.column], derived: false }, views);
    const hit = lineageMasks(m.columns, lineage);
    if (!hit.length) continue;
    // Through a view, a column computed from a masked one was computed in the view's query.
    const where: PredicatePlace = ROW_FILTERS.has(p.where) && lineage.derived ? 'join' : p.where;
    if (ROW_FILTERS.has(where)) continue;
    const named = p.column.column === '*' ? `the whole row of ${p.column.table}` : `${p.column.table}.${p.column.column}`;
    throw new WardenError(
      ErrorCode.DENIED,
      `masked column ${hit[0]!.column} (${named}) is used in ${PLACES[where]}, whose result the statement returns computed from its value; ` +
        "under masks a masked column may be compared only in the outermost query's own WHERE, HAVING, ORDER BY or GROUP BY, against constants, parameters or columns of the same row",
      { ruleIds: ['masking.columns'], reason: 'masked column used in a predicate that feeds the output' },
    );
  }
}
