/**
 * What describe_database says about a relation's inheritance family, so that it describes what
 * query_database does (inheritance.ts, inherited-denies.ts): a child's rows are its ancestors'
 * rows, so a deny on an ancestor refuses it (left out, like the denied ancestor, or without
 * write); a relation named without ONLY reaches its descendants' rows, so a deny on a
 * descendant refuses it unless it is named `ONLY schema.table` (marked, with a note saying so).
 * Pure: the families come from the catalog (view-catalog.ts), the denied tables from
 * grantedTables (describe-database.ts).
 */
import type { RelationFamily } from './inheritance.js';

/** Names listed in a note before the rest are counted. */
const LISTED = 5;

/** The denied tables of the conditional deny rules on query_database (grantedTables). */
export interface DeniedTables {
  /** A deny forbids touching them (reading or writing). */
  hidden: ReadonlySet<string>;
  /** A deny forbids writing them. */
  writeDenied: ReadonlySet<string>;
}

/** A relation's access once its family is judged against the deny rules. */
export interface FamilyAccess {
  /** A deny forbids touching an ancestor: every statement naming the relation is refused, so it is left out. */
  hidden: boolean;
  /** Whether a granted write survives (false when a deny forbids writing an ancestor). */
  write: boolean;
  /** The access kinds that must name the relation as ONLY (empty when none). */
  requiresOnly: ('read' | 'write')[];
  /** Why, for the agent (absent when nothing is said). */
  note?: string;
}

function list(names: readonly string[]): string {
  return names.length <= LISTED ? names.join(', ') : `${names.slice(0, LISTED).join(', ')} and ${names.length - LISTED} more`;
}

/**
 * Judge `relation` (granted `write` or not) by its family. A relation whose family is unknown
 * (the catalog was not asked: no deny names a table, or it no longer exists) keeps its access.
 */
export function familyAccess(relation: string, family: RelationFamily | undefined, granted: { write: boolean }, denied: DeniedTables): FamilyAccess {
  if (!family) return { hidden: false, write: granted.write, requiresOnly: [] };
  if (family.ancestors.some((a) => denied.hidden.has(a))) return { hidden: true, write: false, requiresOnly: [] };
  const write = granted.write && !family.ancestors.some((a) => denied.writeDenied.has(a));
  const untouchable = family.descendants.filter((d) => denied.hidden.has(d));
  const unwritable = write ? family.descendants.filter((d) => denied.writeDenied.has(d) && !denied.hidden.has(d)) : [];
  const requiresOnly: ('read' | 'write')[] = [];
  const notes: string[] = [];
  if (untouchable.length) {
    requiresOnly.push('read', ...(write ? (['write'] as const) : []));
    notes.push(
      `${write ? 'read and write' : 'read'} it as ONLY ${relation}: without ONLY it reaches the rows of ${list(untouchable)}, which a deny rule forbids, and is refused`,
    );
  }
  if (unwritable.length) {
    if (!requiresOnly.includes('write')) requiresOnly.push('write');
    notes.push(`write it as ONLY ${relation}: without ONLY a write reaches the rows of ${list(unwritable)}, which a deny rule forbids writing, and is refused`);
  }
  return { hidden: false, write, requiresOnly, ...(notes.length ? { note: notes.join('; ') } : {}) };
}
