/**
 * Write-side oracles on masked columns: a constraint the catalog holds, evaluated on a row whose
 * masked value the statement did not write, answers by success or failure (SQLSTATE 23514 or
 * 23503) a question about that value that the masks never judged. Under masks:
 * - UPDATE (an INSERT ... ON CONFLICT DO UPDATE too) of a table with a CHECK, or a unique or
 *   exclusion index whose key is computed (an expression, a partial index's predicate, an
 *   exclusion operator: `UNIQUE (name) WHERE ascii(email) < 100` answers `SET name = 'taken'`
 *   by 23505 exactly when the row's email satisfies the predicate), that reads a
 *   masked column the statement leaves as it is: refused when the CHECK was added NOT VALID
 *   (`UPDATE t SET id = id WHERE id = 5` evaluates it on row 5), when the statement writes
 *   another column the CHECK reads (`SET lim = 10` under `CHECK (length(email) < lim)`), when
 *   the CHECK may change with nothing written (a function that is not IMMUTABLE, or one outside
 *   pg_catalog), when the table is partitioned (a row an UPDATE moves is checked by the other
 *   partition's CHECKs), or when what the statement writes is not known column by column (a
 *   whole row, a view, an upsert). A validated, immutable CHECK over columns the UPDATE does not
 *   write held before and holds again: that UPDATE runs (a unique index's key is checked only
 *   when it changes). A unique index over plain columns compares values as they are (equal
 *   values, which `GROUP BY` tells under masks too): not judged. A foreign key is checked on an UPDATE
 *   only when its columns change, from the values the statement writes (an equality test of a
 *   constant, as `WHERE email = $1` is under masks): not judged here.
 * - ALTER TABLE ... VALIDATE CONSTRAINT: refused when the named constraint (on the table or,
 *   as VALIDATE recurses, its descendants) reads a masked column: a CHECK's columns, a foreign
 *   key's referencing or referenced columns, the whole row; or calls a function outside
 *   pg_catalog (it may read anything); or is not found (fail closed: the same ALTER TABLE may
 *   add it NOT VALID first, on a table with no masked column). VALIDATE of a constraint
 *   over unmasked columns only runs.
 * A mask on a relation's ancestor or descendant holds on its column of the same name (the
 * widened masks, view-masking.ts); the relation written counts for its descendants' rows.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import type { ConstraintCatalog, RelationConstraints, TableConstraint } from './constraint-catalog.js';
import type { Caller } from './pool-shares.js';
import type { ViewCatalog } from './view-catalog.js';
import { changesRows } from './widened-relations.js';

/** Relation kinds whose rows an UPDATE changes directly (pg_class.relkind: table, partitioned table). */
const TABLES = new Set(['r', 'p']);

/** The first masked column among `columns` of `tables` (as schema.table.column), or null. */
function maskedOf(m: MaskingContext, tables: readonly string[], columns: readonly string[]): string | null {
  for (const c of columns) {
    for (const t of tables) if (m.columns.some((mc) => mc.column === `${t}.${c}`)) return `${t}.${c}`;
  }
  return null;
}

/** The first masked column of any of `tables`, or null (a whole row). */
function anyMasked(m: MaskingContext, tables: readonly string[]): string | null {
  const hit = m.columns.find((mc) => tables.includes(mc.column.slice(0, mc.column.lastIndexOf('.'))));
  return hit ? hit.column : null;
}

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) an UPDATE whose CHECK constraints would answer a
 * question about a masked value it leaves as it is (see the top of the file). `m`: the widened masks.
 */
export async function checkUpdateOracles(facts: SqlFacts, m: MaskingContext, constraints: ConstraintCatalog, views: ViewCatalog, caller?: Caller): Promise<void> {
  if (!m.columns.length || !facts.statements.includes('update') || !facts.writes.length || !changesRows(facts)) return;
  const known = await constraints.of(facts.writes, caller);
  // Written through a view: its base tables, whose columns the statement writes are not known here.
  // (One the catalog does not know is not written: PostgreSQL refuses the statement.)
  const viaViews = [...known].filter(([, k]) => k && !TABLES.has(k.kind)).map(([r]) => r);
  const bases = viaViews.length ? [...(await views.reached(viaViews, caller)).relations].filter((r) => !known.has(r)) : [];
  const baseKnown = bases.length ? await constraints.of(bases, caller) : new Map<string, RelationConstraints | null>();
  const upsert = facts.statements.includes('insert');
  for (const [relation, info] of [...known, ...baseKnown]) {
    // A view holds no CHECK or index: its base tables' are judged (as written whole).
    if (!info) continue;
    const written = facts.writes.includes(relation) ? facts.writtenColumns.filter((c) => c.table === relation).map((c) => c.column) : ['*'];
    const exact = !upsert && !written.includes('*') && info.kind === 'r';
    for (const k of info.constraints) {
      if (k.type === 'f') continue;
      const tables = [k.table, relation];
      const masked = k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, exact ? k.columns.filter((c) => !written.includes(c)) : k.columns);
      if (!masked) continue;
      const why = !k.validated
        ? 'it was added NOT VALID, so the rows it was never checked on are checked now'
        : k.mutable || k.opaque
          ? 'it calls a function that is not IMMUTABLE or lies outside pg_catalog, so its result may change with nothing written'
          : !exact
            ? info.kind === 'p'
              ? 'the table is partitioned, and a row the UPDATE moves is checked by the CHECKs of the partition it moves to'
              : 'what the statement writes is not known column by column (a whole row, a view, or an INSERT ... ON CONFLICT DO UPDATE)'
            : k.wholeRow || k.columns.some((c) => written.includes(c))
              ? 'the statement writes another column it reads'
              : null;
      if (why) throw oracle(masked, k, `${why}; its success or failure tells whether the masked value ${k.type === 'i' ? 'enters its computed key or predicate' : 'satisfies it'}`,
        'an UPDATE that writes no column such a CHECK or computed unique index reads (or writes the masked column itself), of a table whose CHECKs over masked columns are validated and IMMUTABLE, runs');
    }
  }
}

/** Refuse ALTER TABLE ... VALIDATE CONSTRAINT of a constraint that reads a masked column (see the top of the file). */
export async function checkValidateOracles(facts: SqlFacts, m: MaskingContext, constraints: ConstraintCatalog, caller?: Caller): Promise<void> {
  const named = facts.validatedConstraints ?? [];
  if (!m.columns.length || !named.length) return;
  const known = await constraints.of(named.map((v) => v.table), caller);
  for (const v of named) {
    const info = known.get(v.table);
    const hits = info?.constraints.filter((k) => k.type !== 'i' && k.name === v.name) ?? [];
    // Not in the catalog (yet: the same ALTER TABLE may ADD it NOT VALID before it VALIDATEs it,
    // a foreign key into a masked column too): what it reads is not known.
    if (!hits.length) {
      throw oracle(anyMasked(m, [v.table]) ?? m.columns[0]!.column, { table: v.table, name: v.name }, 'the catalog does not show it, so what it reads is not known', ALLOWED_VALIDATE);
    }
    for (const k of hits) {
      const tables = [k.table, v.table];
      // A function outside pg_catalog may read any masked column, of any table.
      const masked = k.opaque ? m.columns[0]!.column
        : k.wholeRow ? anyMasked(m, tables)
        : maskedOf(m, tables, k.columns) ?? maskedOf(m, k.refTables, k.refColumns);
      if (masked) throw oracle(masked, k, 'VALIDATE evaluates it on every existing row, and whether it fails tells whether the masked values satisfy it', ALLOWED_VALIDATE);
    }
  }
}

const ALLOWED_VALIDATE = 'VALIDATE of a constraint that reads only unmasked columns runs; or write the CHECK in the statement (ADD CONSTRAINT ... CHECK), where it is judged like a query';

function oracle(column: string, k: Pick<TableConstraint, 'table' | 'name'> & { type?: TableConstraint['type'] }, why: string, allowed: string): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    `masked column ${column} would be checked by ${k.type === 'i' ? 'unique index' : 'constraint'} ${k.name} of ${k.table}, a definition the statement does not show: ${why}; ` +
      `under masks this is refused (${allowed})`,
    { ruleIds: ['masking.columns'], reason: 'masked column checked by a definition the statement does not show' },
  );
}
