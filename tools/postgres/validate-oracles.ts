/**
 * ALTER TABLE ... VALIDATE CONSTRAINT under masks (the write-side oracles of constraint-oracles.ts):
 * refused when the named constraint (on the table or, as VALIDATE recurses, its descendants) reads
 * a masked column: a CHECK's columns, a foreign key's referencing or referenced columns, the whole
 * row; or calls a function outside pg_catalog (it may read anything); or is not found (fail
 * closed: the same ALTER TABLE may add it NOT VALID first, on a table with no masked column).
 * VALIDATE of a constraint over unmasked columns only runs.
 */
import type { MaskingContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import type { ConstraintCatalog } from './constraint-catalog.js';
import { anyMasked, maskedOf, oracle } from './oracle-reasons.js';
import type { Caller } from './pool-shares.js';

/** Refuse ALTER TABLE ... VALIDATE CONSTRAINT of a constraint that reads a masked column (see the top of the file). */
export async function checkValidateOracles(facts: SqlFacts, m: MaskingContext, constraints: ConstraintCatalog, caller?: Caller): Promise<void> {
  const named = facts.validatedConstraints ?? [];
  if (!m.columns.length || !named.length) return;
  const known = await constraints.of(named.map((v) => v.table), caller);
  for (const v of named) {
    const info = known.get(v.table);
    const hits = info?.constraints.filter((k) => (k.type === 'c' || k.type === 'f') && k.name === v.name) ?? [];
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
