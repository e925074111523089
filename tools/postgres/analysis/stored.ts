/**
 * The values a statement stores (SqlFacts.stored): INSERT's query or VALUES, UPDATE's SET,
 * CREATE TABLE AS, SELECT INTO, ALTER ... USING, a generated column. Each written column gets the
 * lineage of what flows into it, so masking can refuse a masked column copied into a table
 * (tools/postgres/masked-copies.ts). Predicates store nothing and are never recorded here.
 */
import { type Ctx, type Lin, type OutCol, uniqSources, wholeRow } from './context.js';

/**
 * Record one value stored into `table`.`column` ('*' when analysis cannot tell the column). A
 * value drawn from no column (a constant, a parameter) is not recorded: it carries nothing a
 * mask covers, and a bulk VALUES list would fill the facts with empty entries.
 */
export function storeValue(ctx: Ctx, table: string, column: string, lin: Lin): void {
  if (lin.sources.length === 0) return;
  ctx.stored.push({ table, column, sources: uniqSources(lin.sources), derived: lin.derived });
}

/**
 * Record a query's output columns stored into `table`, by position: `names` are the target
 * columns when the statement lists them, 'output' when the new columns take the output's names
 * (CREATE TABLE AS, SELECT INTO), null when unknown (INSERT without a column list). A `*` the
 * analysis could not expand leaves every position open: each entry goes to column '*'.
 */
export function storeOutput(ctx: Ctx, table: string, cols: readonly OutCol[], names: readonly string[] | 'output' | null): void {
  const open = cols.some((c) => c.starRel);
  cols.forEach((c, i) => {
    const column = open ? '*' : names === 'output' ? c.name : (names?.[i] ?? '*');
    storeValue(ctx, table, column, { sources: c.starRel ? wholeRow(c.starRel) : c.sources, derived: c.derived });
  });
}
