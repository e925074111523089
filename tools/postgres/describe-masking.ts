/**
 * Which columns of a described relation query_database masks or refuses, found by asking
 * query_database's own masking of the statement `SELECT c1, ..., cn, * FROM [ONLY] relation`:
 * outputThroughViews (masks followed through views and widened along inheritance, the refusal of
 * a view masking cannot follow), checkDerivedFlows (on_derived: deny) and planColumnMasks, each
 * column judged on its own as if selected alone. No second lineage walker: the catalog answers
 * come from view-catalog.ts, asked for every described relation at once beforehand (warm).
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { OutputColumnLineage, SqlFacts } from './analysis/types.js';
import { checkDerivedFlows, planColumnMasks } from './column-masking.js';
import { checkViewPredicates } from './predicate-channels.js';
import type { ViewCatalog } from './view-catalog.js';
import type { Caller } from './pool-shares.js';
import { viewColumn } from './view-lineage.js';
import { outputThroughViews, type MaskLineage } from './view-masking.js';

/** How query_database treats one column selected on its own. */
export interface ColumnVerdict {
  /** The strategy it masks the column with (a refused column is marked too: its value is masked). */
  masked?: string;
  /** Why it refuses the column (a masked column computed in a view, under on_derived: deny). */
  refused?: string;
}

/** How query_database treats reads of one relation. */
export interface RelationVerdict {
  /** Why it refuses every statement reading the relation (a view masking cannot follow). */
  refused?: string;
  /** By column name; empty when the relation is refused. */
  columns: ReadonlyMap<string, ColumnVerdict>;
  /** Why it refuses `SELECT *` (a column computes a masked value). */
  star?: string;
}

/**
 * The facts the analyser gives `SELECT "c1", ..., "cn", * FROM [ONLY] "schema"."relation"`
 * (test/tools/postgres/describe-masking.test.ts holds them equal), built without parsing: the
 * analyser costs milliseconds per statement, and a database has thousands of relations.
 */
export function describedReadFacts(relation: string, columns: readonly string[], only: boolean): SqlFacts {
  const output: OutputColumnLineage[] = columns.map((name) => ({ name, sources: [{ table: relation, column: name }], derived: false }));
  output.push({ name: '*', sources: [{ table: relation, column: '*' }], derived: false, star: 'table' });
  return {
    family: 'sql',
    summary: `select; reads ${relation}`,
    statements: ['select'],
    topLevel: 'select',
    reads: [relation],
    writes: [],
    writtenColumns: [],
    onlyRelations: only ? [relation] : [],
    functions: [],
    settings: [],
    constructs: [],
    output,
    stored: [],
    predicateColumns: [],
    hasStar: true,
    sql: '',
    readOnly: true,
    qualifiedColumns: [],
    readColumns: [{ table: relation, column: '*' }, ...columns.map((column) => ({ table: relation, column }))].sort((a, b) => (a.column < b.column ? -1 : 1)),
    unqualifiedPgRelations: [],
    unqualifiedPgFunctions: [],
    unqualifiedFunctions: [],
    operators: ['*'], // the lexer's token for the star, as analysed
    qualifiedFunctionArguments: [],
  };
}

/** The message of a refusal (WARDEN_DENIED); anything else is rethrown (fail closed). */
function refusalMessage(e: unknown): string {
  if (e instanceof WardenError && e.code === ErrorCode.DENIED) return e.message;
  throw e;
}

/** The refusal `check` throws, or undefined. */
function refusalOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return refusalMessage(e);
  }
}

/**
 * Judge reads of `relation` (named with ONLY when `only`) as query_database would under the
 * call's masking context `policy`. Answered from the catalog cache once warmed (ViewCatalog.warm).
 */
export async function relationVerdict(relation: string, columns: readonly string[], only: boolean, policy: MaskingContext, catalog: ViewCatalog, caller?: Caller): Promise<RelationVerdict> {
  const facts = describedReadFacts(relation, columns, only);
  let lineage: MaskLineage;
  try {
    lineage = await outputThroughViews(facts, policy, catalog, caller);
    checkViewPredicates(lineage.views, lineage.masking);
  } catch (e) {
    return { refused: refusalMessage(e), columns: new Map() };
  }
  const { output, masking, views } = lineage;
  const view = views.get(relation);
  const verdicts = new Map<string, ColumnVerdict>();
  columns.forEach((name, i) => {
    const o = output[i]!;
    const refusedColumn = refusalOf(() => checkDerivedFlows({ output: [o] }, masking));
    // As after the run: the field names relation.name, and a view's column carries its lineage.
    const [plan] = planColumnMasks({ output: [o] }, [`${relation}.${name}`], masking, [view ? viewColumn(view, name) : undefined]);
    const masked = plan ?? (refusedColumn ? 'redact' : null);
    verdicts.set(name, { ...(masked ? { masked } : {}), ...(refusedColumn ? { refused: refusedColumn } : {}) });
  });
  const star = refusalOf(() => checkDerivedFlows({ output: [output[columns.length]!] }, masking));
  return { columns: verdicts, ...(star ? { star } : {}) };
}
