/**
 * Masks and deny rules follow table inheritance and partitioning. PostgreSQL's field metadata
 * names the relation a statement names, so neither a mask on `payments.card` read through a
 * child (`SELECT card FROM payments_2024`) nor a child's mask or deny read through its parent
 * (`SELECT card FROM payments`, which returns every descendant's rows) was seen. The semantics:
 * - a mask on a table's column holds on the same-named column of every descendant (inherited
 *   columns keep their names; a partition's columns are its parent's);
 * - a relation named without ONLY reaches its descendants' rows: a mask on a descendant's
 *   column holds on its column of the same name, and deny rules judge the descendants as read,
 *   or as written when the statement writes the parent (UPDATE, DELETE, TRUNCATE, ALTER recurse;
 *   an INSERT into a partitioned table lands in a partition; one into a plain parent does not,
 *   and counts all the same: a refusal too many at worst). `ONLY parent` reaches its own rows.
 * - a child's rows are its ancestors' rows too: deny rules judge its ancestors as read (or
 *   written) when it is, ONLY or not.
 * - multiple inheritance (`CREATE TABLE c (...) INHERITS (p1, p2)`): c's rows are p1's and p2's
 *   rows, so p1 named without ONLY returns rows of p2 too. A relation named without ONLY takes,
 *   besides its descendants' masks, those of its descendants' other ancestors (p2, and p2's
 *   ancestors), on its column of the same name (c's `card` is p1's and p2's `card`, merged), and
 *   deny rules judge those ancestors as read (or written) too.
 * - Allow rules are not widened: a grant on the parent covers its descendants' rows read
 *   through it (granting every partition is not needed), and reading a child directly needs a
 *   grant on the child. Deny wins: a deny on a descendant refuses its parent read without ONLY,
 *   and a deny on a parent refuses its children.
 * Deny rules are widened along inheritance with views, in one step (widened-relations.ts).
 * Everything here is pure; the catalog answers (pg_inherits) come from view-catalog.ts.
 */
import type { ColumnMask } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import { lineageTables } from './view-lineage.js';
import type { GeneratedRead } from './generated-columns.js';

/** One relation's place in its inheritance tree, as the catalog says (schema.name everywhere). */
export interface RelationFamily {
  /** Parents, their parents, ... (multiple inheritance: all of them). */
  ancestors: readonly string[];
  /** Children and partitions, theirs, ... */
  descendants: readonly string[];
  /**
   * Multiple inheritance: the ancestors of its descendants that are neither itself, nor its own
   * ancestors, nor its descendants, each with one descendant that has it (`via`). Named without
   * ONLY, the relation returns that descendant's rows, which are that ancestor's rows too.
   */
  descendantsAncestors: readonly { relation: string; via: string }[];
  /** Its descendants that are foreign tables (foreign-tables.ts): named without ONLY, it returns rows a foreign server sends. */
  foreignDescendants: readonly string[];
  /** The relation's own column names. */
  columns: readonly string[];
  /**
   * The generated columns of the relation, its ancestors, descendants and their other ancestors,
   * with the columns of their own table each one's expression reads (generated-columns.ts).
   * Absent: none known (a family built without the catalog).
   */
  generated?: readonly GeneratedRead[];
}

/** Strategy of a column masked twice over (its own rule and an ancestor's, say) with different strategies: the whole value. */
const CONFLICT_STRATEGY = 'redact';

/**
 * Every relation a statement names or draws a value from: reads, writes, and the tables of its
 * output and stored lineage. Placeholders (no relation) are skipped.
 */
export function statementRelations(facts: Pick<SqlFacts, 'reads' | 'writes' | 'output' | 'stored'>): string[] {
  const all = [...facts.reads, ...facts.writes, ...lineageTables(facts.output), ...lineageTables(facts.stored)];
  return [...new Set(all.filter((r) => !r.startsWith('\u0000')))];
}

/** Masks by table, once per compiled column list (it lives as long as its policy). */
const BY_TABLE = new WeakMap<readonly ColumnMask[], ReadonlyMap<string, readonly ColumnMask[]>>();
export function masksByTable(masks: readonly ColumnMask[]): ReadonlyMap<string, readonly ColumnMask[]> {
  let index = BY_TABLE.get(masks);
  if (!index) {
    const m = new Map<string, ColumnMask[]>();
    for (const c of masks) {
      const table = c.column.slice(0, c.column.lastIndexOf('.'));
      m.set(table, [...(m.get(table) ?? []), c]);
    }
    BY_TABLE.set(masks, (index = m));
  }
  return index;
}

/** The relations whose masks hold on `family`'s columns of the same name: its ancestors, and, `inheriting`, its descendants and their other ancestors. */
export function maskSources(family: RelationFamily, inheriting: boolean): readonly string[] {
  if (!inheriting) return family.ancestors;
  return [...family.ancestors, ...family.descendants, ...family.descendantsAncestors.map((a) => a.relation)];
}

/**
 * The masks a statement is judged by: the policy's, plus, for each relation in `families`, the
 * masks of its ancestors' columns, and, when `inheriting(relation)` (it is named without ONLY),
 * of its descendants' columns and of their other ancestors' (multiple inheritance), on its own
 * column of the same name. A column that ends up with
 * different strategies is redacted whole. Returns `masks` itself when inheritance adds nothing.
 */
export function inheritedMasks(masks: readonly ColumnMask[], families: ReadonlyMap<string, RelationFamily>, inheriting: (relation: string) => boolean): readonly ColumnMask[] {
  if (!masks.length) return masks;
  const byTable = masksByTable(masks);
  const added = new Map<string, Set<string>>();
  for (const [relation, family] of families) {
    const from = maskSources(family, inheriting(relation));
    if (!from.length) continue;
    const columns = new Set(family.columns);
    for (const table of from) {
      for (const m of byTable.get(table) ?? []) {
        const column = m.column.slice(m.column.lastIndexOf('.') + 1);
        if (!columns.has(column)) continue;
        const key = `${relation}.${column}`;
        let strategies = added.get(key);
        if (!strategies) added.set(key, (strategies = new Set()));
        strategies.add(m.strategy);
      }
    }
  }
  return withMasks(masks, added);
}

/**
 * `masks` with `added` (column -> the strategies it is masked with) merged in: a column masked
 * with one strategy alone keeps it, one with several is redacted whole. Returns `masks` itself
 * when nothing is added. Why shared: inheritance and generated columns (generated-columns.ts)
 * widen the same list the same way.
 */
export function withMasks(masks: readonly ColumnMask[], added: ReadonlyMap<string, ReadonlySet<string>>): readonly ColumnMask[] {
  if (!added.size) return masks;
  const left = new Map(added);
  const out: ColumnMask[] = [];
  for (const m of masks) {
    const more = left.get(m.column);
    if (!more) {
      out.push(m);
      continue;
    }
    left.delete(m.column);
    out.push(more.size === 1 && more.has(m.strategy) ? m : { column: m.column, strategy: CONFLICT_STRATEGY });
  }
  for (const [column, strategies] of left) out.push({ column, strategy: strategies.size === 1 ? [...strategies][0]! : CONFLICT_STRATEGY });
  return out;
}
