/**
 * A statement that writes may not store a masked column's value anywhere: once copied into a
 * table (`INSERT INTO notes SELECT email FROM users`, CREATE TABLE AS, UPDATE ... SET, SELECT
 * INTO, ALTER ... USING), it would read back unmasked, since PostgreSQL's field metadata then
 * names the copy and no lineage leads back to the masked column. So every stored value
 * (SqlFacts.stored, also through views: view-masking.ts) is checked before the statement runs,
 * whatever `on_derived` says: directly, computed or inside a whole row, it is refused.
 * Predicates (WHERE, JOIN ON, ORDER BY) store nothing; those that compute a value from a masked
 * column (a join on it, a subquery filtered on it) are refused by predicate-channels.ts.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { StoredLineage } from './analysis/types.js';
import { lineageMasks } from './column-masking.js';

/** Refuse (WARDEN_DENIED, rule masking.columns) a statement that stores a masked column's value. */
export function checkMaskedCopies(facts: { stored: readonly StoredLineage[] }, m: MaskingContext): void {
  if (!m.columns.length) return;
  for (const s of facts.stored) {
    const hit = lineageMasks(m.columns, s);
    if (!hit.length) continue;
    const target = s.column === '*' ? s.table : `${s.table}.${s.column}`;
    throw new WardenError(
      ErrorCode.DENIED,
      `masked column ${hit[0]!.column} would be copied into ${target}; a statement that writes may not store a masked column's value (as is, computed or in a whole row), since the copy would read back unmasked. Filtering on it in the outermost query's WHERE is allowed`,
      { ruleIds: ['masking.columns'], reason: 'masked column copied by a write' },
    );
  }
}
