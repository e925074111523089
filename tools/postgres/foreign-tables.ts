/**
 * Foreign tables (pg_class.relkind 'f'): their rows come from a foreign server through a
 * foreign-data wrapper, and what that server reads is not in this database's catalog. With
 * postgres_fdw it may be this very database (a loopback server), so `secrets_remote` can read a
 * table a deny rule names, or a masked column, under another name. Neither deny rules nor masks
 * can follow a foreign table to its source, so, like a view whose definition cannot be read:
 * - deny rules: while a deny rule that could apply to the call is in force, a statement that
 *   reaches a foreign table is refused (widened-relations.ts marks it unknown, reachRefusal);
 * - masks: while a column mask is configured, the same (foreignMaskRefusal, view-masking.ts).
 *   A foreign table's columns are not traced to the foreign server's: a mask naming the foreign
 *   table's own column does not make it readable, since its other columns may carry anything.
 * A statement reaches a foreign table when it names one (ONLY or not: ONLY does not stop the
 * server), reads a view that does, or names without ONLY a parent one of whose descendants is
 * one (a foreign partition); `ONLY parent` reads the parent's own rows. With no mask and no deny
 * rule that could apply, a foreign table reads as any table (its grant is the admin's choice).
 * Pure: the kinds come from the catalog query of view-catalog.ts, which costs a plain read
 * nothing once cached.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { RelationFamily } from './inheritance.js';

/** pg_class.relkind of a foreign table. */
export const FOREIGN_TABLE_KIND = 'f';

/** Why neither deny rules nor masks can follow a foreign table. */
export const FOREIGN_WHY =
  'its rows come from a foreign server through a foreign-data wrapper, which may read any relation (this very database, through a loopback server), and what it reads is not in the catalog';

/** A foreign table a read reaches, and the parent named without ONLY it is reached through (null: named, or read by a view, itself). */
export interface ForeignReached {
  table: string;
  via: string | null;
}

/**
 * The foreign tables reading `relation` reaches: itself when it is one (`kind`), and, when
 * `inheriting` (named without ONLY, or through a view), its foreign descendants.
 */
export function foreignReached(relation: string, kind: string | undefined, family: RelationFamily | undefined, inheriting: boolean): ForeignReached[] {
  const out: ForeignReached[] = kind === FOREIGN_TABLE_KIND ? [{ table: relation, via: null }] : [];
  if (inheriting) for (const d of family?.foreignDescendants ?? []) out.push({ table: d, via: relation });
  return out;
}

/** The refusal when masks cannot follow a foreign table: never return what a mask might have covered. */
export function foreignMaskRefusal(reached: ForeignReached): WardenError {
  const through = reached.via ? ` (${reached.via} returns, named without ONLY, the rows of ${reached.table}; ONLY ${reached.via} reads its own rows)` : '';
  return new WardenError(
    ErrorCode.DENIED,
    `masked columns cannot be followed through foreign table ${reached.table}${through}: ${FOREIGN_WHY}; refused rather than return data a mask may cover (read the source table, or ask an admin)`,
    { ruleIds: ['masking.columns'], reason: 'foreign table lineage unknown' },
  );
}
