/**
 * Column lineage through views. PostgreSQL's field metadata names a view's own column, and the
 * analyser's lineage of `FROM v` stops at v too; a mask on public.users.email must still hold
 * for `SELECT email FROM user_view`. A view's definition (pg_get_viewdef, read by
 * view-catalog.ts) is analysed with the project's own analyser, so each view column gets the
 * columns it carries; resolution then follows views of views down to base tables. The same
 * analysis says what the definition reaches, for deny rules (widened-relations.ts).
 * Everything here is pure: the catalog work and the caches live in view-catalog.ts.
 */
import { ErrorCode, WardenError, type ColumnMask } from '../../src/tool-api.js';
import { analyzeSql, runsQueryText } from './analysis/index.js';
import { lineageMasks } from './column-masking.js';
import type { OutputColumnLineage, PredicateColumn, SourceColumn, SqlFacts } from './analysis/types.js';

/** What one column carries: the relation columns it flows from, and whether it is computed. */
export interface ColumnLineage {
  sources: readonly SourceColumn[];
  derived: boolean;
}

/** A view's columns (by name) and their lineage. */
export type ViewColumns = ReadonlyMap<string, ColumnLineage>;

/** Views (schema.name, as facts spell tables) and their columns' lineage. */
export type ViewLineages = ReadonlyMap<string, ViewColumns>;

/** A view or materialized view as the catalog describes it. */
export interface ViewDefinition {
  name: string;
  /** pg_get_viewdef text, printed with only pg_catalog on the search_path (every other table qualified). */
  definition: string;
  /** Column names in attnum order. */
  columns: readonly string[];
  /** Its print as read with the definition (view-prints.ts): what a masked call checks is still the catalog's. */
  print?: string | null;
}

/**
 * The entry of a view's masking lineage (AnalysedView.columns) that lists the columns its own
 * predicates compute its rows from (feedingPredicates), resolved through views of views like a
 * column; no column has this name. A whole-row or `*` read of the view carries it, computed.
 */
export const VIEW_PREDICATES = '\u0000predicates';

/**
 * The prefix of the entries of a view's masking lineage that list the columns its definition
 * feeds to a function outside pg_catalog, one entry per function (`VIEW_CALL + schema.name`),
 * resolved through views of views like a column; no column has such a name. A view calling a
 * user set-returning function on a masked column returns a row count computed from it
 * (set-returning-calls.ts asks the catalog which functions return sets).
 */
export const VIEW_CALL = '\u0000call ';

/** The entry of a view's masking lineage naming the tables its definition self-joins (facts' selfJoined; predicate-channels.ts). */
export const VIEW_SELF_JOINS = '\u0000self-joins';

/** Whether an entry of a view's masking lineage is one of its columns (not VIEW_PREDICATES or a VIEW_CALL entry). */
function isViewColumn(name: string): boolean {
  return !name.startsWith('\u0000');
}

/** How deep views of views are followed before the statement is refused. */
export const MAX_VIEW_DEPTH = 16;

/** Schemas whose views read only system catalogs: followed only when a mask names a column there. */
const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema'];

/** The refusal when masking cannot follow a view: never return what a mask might have covered. */
export function viewRefusal(view: string, why: string): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    `masked columns cannot be followed through view ${view}: ${why}; refused rather than return data a mask may cover (select from the base tables, or ask an admin to simplify the view)`,
    { ruleIds: ['masking.columns'], reason: 'view lineage unknown' },
  );
}

/**
 * What a view's definition reaches, for deny rules: the relations it reads anywhere (also in a
 * WHERE, a subquery or a join whose columns it does not show), those it names only with ONLY
 * (analysis/only.ts), and the functions it calls.
 */
export interface ViewReach {
  reads: readonly string[];
  only: readonly string[];
  functions: readonly string[];
  /**
   * The view's columns' one-level lineage, when its output lines up with its columns: a write
   * of a plain column lands on the column it shows (written columns, widened-relations.ts).
   */
  columns?: ViewColumns;
}

/**
 * One view's definition, analysed once for masks and deny rules: its columns' one-level lineage
 * or the refusal masking gives it; what it reaches, or why deny rules cannot follow it.
 */
export interface AnalysedView {
  columns: ViewColumns | WardenError;
  reach: ViewReach | string;
  /**
   * Every relation the definition reads, also when deny rules cannot follow it (an opaque call):
   * what it reaches by name, for the checks on what a statement may touch at all
   * (statistics-values.ts). Empty when the definition is not understood (masking and deny rules
   * refuse such a view).
   */
  reads: readonly string[];
  /**
   * Every function the definition calls, also when deny rules cannot follow it, spelled as facts
   * spell them: for the same checks (a view calling pg_get_viewdef quotes definitions). Empty
   * when the definition is not understood.
   */
  calls: readonly string[];
  /** Every column the definition reads anywhere (facts' readColumns), for the same checks (catalog-columns.ts). Empty when not understood. */
  readColumns: readonly SourceColumn[];
}

/**
 * Why deny rules cannot follow a view that calls this function, or null. Why: a function
 * outside pg_catalog (facts spell it schema.name) reads whatever its body reads, and a built-in
 * that runs query text reads what its arguments name; neither is in the definition's reads.
 */
function opaqueCall(fn: string): string | null {
  if (fn.includes('.')) return `it calls ${fn}, whose body deny rules cannot see`;
  if (runsQueryText(fn)) return `it calls ${fn}, which reads what its arguments name`;
  return null;
}

/** Lineage and reach of one view, one level down (both may name other views). Never throws. */
export function analyseDefinition(view: ViewDefinition): AnalysedView {
  let facts: SqlFacts;
  try {
    facts = analyzeSql(view.definition);
  } catch (e) {
    const why = `its definition is not understood by the SQL analyser (${e instanceof Error ? e.message : 'parse error'})`;
    return { columns: viewRefusal(view.name, why), reach: why, reads: [], calls: [], readColumns: [] };
  }
  const opaque = facts.functions.map(opaqueCall).find((why) => why !== null);
  const shown = viewColumns(view, facts.output);
  // Masking's lineage also carries what the view's predicates compute its rows from
  // (VIEW_PREDICATES) and the columns it feeds to functions outside pg_catalog (VIEW_CALL).
  const feeding = feedingPredicates(facts.predicateColumns);
  const extra: [string, ColumnLineage][] = facts.qualifiedFunctionArguments.map((c) => [VIEW_CALL + c.function, { sources: c.sources, derived: true }]);
  if (feeding.length) extra.unshift([VIEW_PREDICATES, { sources: feeding, derived: true }]);
  if (facts.selfJoined) extra.push([VIEW_SELF_JOINS, { sources: facts.selfJoined.map((table) => ({ table, column: '*' })), derived: true }]);
  const columns = extra.length && !(shown instanceof WardenError) ? new Map([...shown, ...extra]) : shown;
  const reach = opaque ?? { reads: facts.reads, only: facts.onlyRelations, functions: facts.functions, ...(shown instanceof WardenError ? {} : { columns: shown }) };
  return { columns, reach, reads: facts.reads, calls: facts.functions, readColumns: facts.readColumns };
}

/**
 * Lineage of each column of one view, one level down (sources may be other views): the
 * definition is analysed like any statement and its output lines up with the view's columns by
 * position. Throws viewRefusal when the definition is not fully understood.
 */
export function analyseView(view: ViewDefinition): ViewColumns {
  const { columns } = analyseDefinition(view);
  if (columns instanceof WardenError) throw columns;
  return columns;
}

/**
 * The columns the definition's predicates compute its rows from (predicate-channels.ts): every
 * column a condition, ordering or grouping of it uses, wherever in it (its own WHERE, HAVING,
 * ORDER BY, GROUP BY, DISTINCT, a join's ON, a subquery or WITH query, a FILTER, a window, a
 * FROM function's arguments). Reading a view is reading its definition as a subquery in FROM,
 * whose clauses compute the statement's rows: a view filtering users on `email LIKE 'al%'`
 * counts those emails in `SELECT count(*) FROM v`, as the same subquery written in the
 * statement does (refused there at 'subquery'), and a view joining users to numbers on the first
 * character's code returns the code as a number. Under masks, a statement reading a view whose
 * predicates use a masked column is refused (predicate-channels.ts).
 */
function feedingPredicates(predicates: readonly PredicateColumn[]): SourceColumn[] {
  return uniq(predicates.map((p) => p.column));
}

/** The view's columns lined up with its definition's output, or the refusal masking gives it. */
function viewColumns(view: ViewDefinition, output: readonly OutputColumnLineage[]): ViewColumns | WardenError {
  if (output.some((o) => o.star) || output.length !== view.columns.length) {
    return viewRefusal(view.name, `its definition's ${output.length} output columns do not line up with the view's ${view.columns.length}`);
  }
  const columns = new Map<string, ColumnLineage>();
  for (const [i, o] of output.entries()) {
    const name = view.columns[i]!;
    if (o.name !== name) return viewRefusal(view.name, `its definition names column ${i + 1} "${o.name}", the view "${name}"`);
    columns.set(name, { sources: o.sources, derived: o.derived });
  }
  return columns;
}

/** Relations (schema.name) an output or a view's columns draw from; placeholders are skipped. */
export function lineageTables(lineage: Iterable<{ sources: readonly SourceColumn[] }>): string[] {
  const out = new Set<string>();
  for (const l of lineage) for (const s of l.sources) if (!s.table.startsWith('\u0000')) out.add(s.table);
  return [...out];
}

/** Whether a relation (or a column) lives in a system schema, whose views read only system catalogs. */
export function isSystemRelation(relation: string): boolean {
  return SYSTEM_SCHEMAS.some((s) => relation.startsWith(`${s}.`));
}

/** Which relations are followed as views for these masks (system views only when a mask names a system column). */
export function viewsToFollow(masks: readonly ColumnMask[]): (relation: string) => boolean {
  const system = masks.some((m) => isSystemRelation(m.column));
  return (relation) => system || !isSystemRelation(relation);
}

function uniq(list: SourceColumn[]): SourceColumn[] {
  const seen = new Map<string, SourceColumn>();
  for (const s of list) seen.set(`${s.table}\u0000${s.column}`, s);
  return [...seen.values()];
}

/** Everything a view's columns carry, for its whole row (`v`, `v.*`) or a name it lacks. */
function wholeView(columns: ViewColumns): ColumnLineage {
  const all = [...columns].filter(([name]) => isViewColumn(name)).map(([, l]) => l);
  return { sources: uniq(all.flatMap((c) => c.sources)), derived: all.some((c) => c.derived) };
}

/**
 * A view column's lineage; a name the view does not have (the catalog changed under a cached
 * entry) stands for the whole view, computed: fail closed.
 */
export function viewColumn(columns: ViewColumns, name: string): ColumnLineage {
  return columns.get(name) ?? { ...wholeView(columns), derived: true };
}

/**
 * Add to `sources` what each source in a view carries; the view's own columns stay listed (a
 * mask may name them, and a `v.*` source keeps its whole-row meaning).
 */
function expand(sources: readonly SourceColumn[], views: ViewLineages): { sources: SourceColumn[]; derived: boolean } {
  const out: SourceColumn[] = [...sources];
  let derived = false;
  for (const s of sources) {
    const view = views.get(s.table);
    if (!view) continue;
    const l = s.column === '*' ? wholeView(view) : viewColumn(view, s.column);
    out.push(...l.sources);
    derived ||= l.derived;
  }
  return { sources: uniq(out), derived };
}

/** One lineage (a value a statement stores) followed through views down to base tables. */
export function throughViews<T extends ColumnLineage>(l: T, views: ViewLineages): T {
  if (views.size === 0) return l;
  const e = expand(l.sources, views);
  return { ...l, sources: e.sources, derived: l.derived || e.derived };
}

/**
 * Resolve one-level view lineage (analyseView of each view) into lineage down to base tables,
 * through views of views. A view that reaches itself is refused.
 */
export function resolveViews(oneLevel: ViewLineages): Map<string, ViewColumns> {
  const done = new Map<string, ViewColumns>();
  const visiting: string[] = [];
  const resolve = (name: string): ViewColumns => {
    const ready = done.get(name);
    if (ready) return ready;
    if (visiting.includes(name)) throw viewRefusal(name, `it reaches itself (${[...visiting, name].join(' -> ')})`);
    if (visiting.length >= MAX_VIEW_DEPTH) throw viewRefusal(name, `views are nested deeper than ${MAX_VIEW_DEPTH}`);
    visiting.push(name);
    const inner = new Map<string, ViewColumns>();
    for (const t of lineageTables(oneLevel.get(name)!.values())) if (oneLevel.has(t)) inner.set(t, resolve(t));
    const columns = new Map<string, ColumnLineage>();
    for (const [col, l] of oneLevel.get(name)!) {
      const e = expand(l.sources, inner);
      columns.set(col, { sources: e.sources, derived: l.derived || e.derived });
    }
    visiting.pop();
    done.set(name, columns);
    return columns;
  };
  for (const name of oneLevel.keys()) resolve(name);
  return done;
}

/** Does this view column carry a masked column in a form per-column masking cannot keep apart? */
function mixesMasked(c: ColumnLineage, masks: ColumnMask[]): boolean {
  return (c.derived || c.sources.some((s) => s.column === '*')) && lineageMasks(masks, c).length > 0;
}

/**
 * The statement's output lineage followed through views. A `*` over a view returns the view's
 * columns one by one (PostgreSQL names each in its field metadata, and planColumnMasks follows
 * each through the view), so it counts as computed only when one of those columns computes or
 * bundles a masked column (checkDerivedFlows then applies on_derived to it).
 */
export function resolveOutput(output: readonly OutputColumnLineage[], views: ViewLineages, masks: ColumnMask[]): OutputColumnLineage[] {
  if (views.size === 0) return [...output];
  return output.map((o) => {
    const e = expand(o.sources, views);
    if (o.star === 'table') {
      const view = views.get(o.sources[0]?.table ?? '');
      const derived = o.derived || (view ? [...view].some(([name, c]) => isViewColumn(name) && mixesMasked(c, masks)) : false);
      return { ...o, sources: e.sources, derived };
    }
    return { ...o, sources: e.sources, derived: o.derived || e.derived };
  });
}
