/**
 * Masking follows lineage through views (view-lineage.ts), inheritance (inheritance.ts) and
 * generated columns (generated-columns.ts): the
 * statement's output lineage before it runs, for the on_derived check; each result field's view
 * column after it runs, for planColumnMasks; and the masks themselves, widened to the children,
 * partitions and parents of the relations it reaches. A statement that reaches a foreign table
 * is refused while a mask is configured: its columns cannot be traced to the foreign server's
 * (foreign-tables.ts). Nothing is asked from the catalog when no mask is configured, and a
 * statement whose relations are cached costs no round trip.
 */
import type { MaskingContext } from '../../src/tool-api.js';
import type { OutputColumnLineage, SqlFacts, StoredLineage } from './analysis/types.js';
import type { FieldOrigin } from './connector.js';
import { FOREIGN_TABLE_KIND, foreignMaskRefusal, foreignReached } from './foreign-tables.js';
import { inheritedMasks, statementRelations, type RelationFamily } from './inheritance.js';
import { generatedMasks } from './generated-columns.js';
import { type ViewCatalog, VIEW_KINDS } from './view-catalog.js';
import type { CatalogRelation } from './view-reader.js';
import type { Caller } from './pool-shares.js';
import { lineageTables, resolveOutput, throughViews, viewColumn, viewsToFollow, type ColumnLineage, type ViewLineages } from './view-lineage.js';

/** Lineage masking works from: the output and the stored values through views, and the views found on the way. */
export interface MaskLineage {
  output: readonly OutputColumnLineage[];
  stored: readonly StoredLineage[];
  views: ViewLineages;
  /**
   * The masks the statement is judged by: the policy's, plus those inheritance carries to the
   * relations it reaches (the policy's own context when it carries none).
   */
  masking: MaskingContext;
  /** The inheritance family of every relation the masks were widened for (those the catalog knows). */
  families: ReadonlyMap<string, CatalogRelation>;
}

const NO_VIEWS: ViewLineages = new Map();
const NO_FAMILIES: ReadonlyMap<string, CatalogRelation> = new Map();

/** Tables the followed views draw from. */
function viewTables(views: ViewLineages): string[] {
  return [...views.values()].flatMap((columns) => lineageTables(columns.values()));
}

/**
 * The policy's masks widened along inheritance for a statement's relations, those its views
 * read, and `extra` (relations field metadata named), then to the generated columns computed
 * from a masked column. A relation named only with ONLY takes its
 * ancestors' masks, not its descendants'; one reached through a view is taken as named without
 * ONLY (the view's definition is not judged for it: fail closed, a mask too many at worst).
 * Throws foreignMaskRefusal when one of them, or a relation a view reads anywhere (also only in
 * a WHERE or a join), is a foreign table or reaches one (a partition).
 */
async function inheritedMasking(
  facts: SqlFacts,
  views: ViewLineages,
  masking: MaskingContext,
  catalog: ViewCatalog,
  extra: readonly string[],
  caller: Caller | undefined,
): Promise<{ masking: MaskingContext; families: ReadonlyMap<string, CatalogRelation> }> {
  const throughViews = new Set(viewTables(views));
  const families = await catalog.families([...statementRelations(facts), ...throughViews, ...extra], caller);
  // What the views read anywhere (a WHERE, a join), not only what their columns draw from: a
  // foreign table there is reached as much as one a column shows (the same walk, cached).
  const viewsMet = [...families].filter(([, f]) => VIEW_KINDS.has(f.kind)).map(([r]) => r);
  const read = viewsMet.length ? [...(await catalog.reached(viewsMet, caller)).relations].filter((r) => !viewsMet.includes(r)) : [];
  const viaViews = new Set([...throughViews, ...read]);
  const only = new Set(facts.onlyRelations);
  const inheriting = (r: string) => viaViews.has(r) || !only.has(r);
  const readFamilies = await catalog.families(read, caller);
  for (const [relation, family] of [...families, ...readFamilies]) {
    const [foreign] = foreignReached(relation, family.kind, family, inheriting(relation));
    if (foreign) throw foreignMaskRefusal(foreign);
  }
  // Then the generated columns that compute a masked column's value, also of a relation a view
  // reads only in a condition (its predicates are judged under the masks too).
  const columns = generatedMasks(inheritedMasks(masking.columns, families, inheriting), new Map([...readFamilies, ...families]), inheriting);
  return { masking: columns === masking.columns ? masking : { ...masking, columns: [...columns] }, families };
}

/** Relations a statement reads, returns columns of (RETURNING from a view it writes) or stores values of (UPDATE v SET a = b). */
function relationsOf(facts: SqlFacts): string[] {
  return [...new Set([...facts.reads, ...lineageTables(facts.output), ...lineageTables(facts.stored)])];
}

/**
 * Before execution: the statement's output lineage, and the lineage of the values it stores,
 * followed through the views it reads. Every view it reads is followed, also one whose columns
 * it does not return (fail closed: a view masking cannot follow is refused wherever it appears).
 */
export async function outputThroughViews(facts: SqlFacts, policy: MaskingContext, catalog: ViewCatalog, caller?: Caller): Promise<MaskLineage> {
  if (!policy.columns.length) return { output: facts.output, stored: facts.stored, views: NO_VIEWS, masking: policy, families: NO_FAMILIES };
  // One catalog query for the kinds and families of every relation the statement names.
  await catalog.families(statementRelations(facts), caller);
  const views = await catalog.lineages(relationsOf(facts), viewsToFollow(policy.columns), caller);
  const { masking, families } = await inheritedMasking(facts, views, policy, catalog, [], caller);
  if (!views.size) return { output: facts.output, stored: facts.stored, views, masking, families };
  return { output: resolveOutput(facts.output, views, masking.columns), stored: facts.stored.map((s) => throughViews(s, views)), views, masking, families };
}

/**
 * After execution: what each field's view column carries (undefined for a table's column), and
 * the masks to apply. A field whose metadata names a view that analysis did not see as one (a
 * table replaced by a view since its kind was cached) has that view followed now, and the output
 * lineage is resolved again; with the rows already read, a masked column it computes is
 * redacted, not refused. A field naming a relation whose family was not known before it ran
 * (created since) has its family asked now, and the masks widened again. A field naming a
 * foreign table (one since it was cached) is refused, rows read or not.
 */
export async function fieldsThroughViews(
  origins: readonly (FieldOrigin | null)[],
  before: MaskLineage,
  facts: SqlFacts,
  policy: MaskingContext,
  catalog: ViewCatalog,
  caller?: Caller,
): Promise<{ output: readonly OutputColumnLineage[]; through: (ColumnLineage | undefined)[]; masking: MaskingContext }> {
  if (!policy.columns.length) return { output: before.output, through: [], masking: policy };
  const foreign = origins.find((o) => o?.relkind === FOREIGN_TABLE_KIND);
  if (foreign) throw foreignMaskRefusal({ table: foreign.relation, via: null });
  const follow = viewsToFollow(policy.columns);
  const unseen = [...new Set(origins.flatMap((o) => (o && VIEW_KINDS.has(o.relkind) && follow(o.relation) && !before.views.has(o.relation) ? [o.relation] : [])))];
  const unknown = [...new Set(origins.flatMap((o) => (o && !VIEW_KINDS.has(o.relkind) && !before.families.has(o.relation) ? [o.relation] : [])))];
  let { output, views, masking } = before;
  if (unseen.length) {
    // Every relation the output names may have changed kind, not only those the fields show.
    const relations = [...new Set([...unseen, ...relationsOf(facts)])];
    catalog.forget(relations);
    views = await catalog.lineages(relations, follow, caller);
  }
  if (unseen.length || unknown.length) {
    masking = (await inheritedMasking(facts, views, policy, catalog, unknown, caller)).masking;
    output = resolveOutput(facts.output, views, masking.columns);
  }
  const through = origins.map((o) => {
    const view = o ? views.get(o.relation) : undefined;
    return view && o ? viewColumn(view, o.column) : undefined;
  });
  return { output, through, masking };
}

/** The tables of a policy's masked columns, once per compiled column list (it lives as long as its policy). */
const MASKED_TABLES = new WeakMap<MaskingContext['columns'], ReadonlySet<string>>();
function maskedTablesOf(columns: MaskingContext['columns']): ReadonlySet<string> {
  let set = MASKED_TABLES.get(columns);
  if (!set) MASKED_TABLES.set(columns, (set = new Set(columns.map((c) => c.column.slice(0, c.column.lastIndexOf('.'))))));
  return set;
}

/**
 * Whether a statement touches a table with a masked column: reads or writes it, draws a value
 * from it, or reads a view that does (followed in `lineage.views`). Such a statement's error
 * messages are withheld unless they never quote values (connector.ts): PostgreSQL's message
 * for `WHERE email::regclass IS NULL` names the masked value it could not find.
 */
export function touchesMaskedTable(facts: SqlFacts, lineage: MaskLineage, masking: MaskingContext): boolean {
  if (!masking.columns.length) return false;
  const masked = maskedTablesOf(masking.columns);
  return [...relationsOf(facts), ...facts.writes, ...viewTables(lineage.views)].some((t) => masked.has(t));
}
