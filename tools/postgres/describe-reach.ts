/**
 * What describe_database says about a relation once deny rules judge what reading or writing it
 * reaches, so that it describes what query_database does (widened-relations.ts, the same
 * widening widened-denies.ts judges): a child's rows are its ancestors' rows, so a deny on an
 * ancestor refuses it (left out, like the denied ancestor, or without write); a relation named
 * without ONLY reaches its descendants' rows, so a deny on a descendant refuses it unless it is
 * named `ONLY schema.table` (marked, with a note saying so); a view reads what its definition
 * reads, so a deny on any of that refuses it (listed with no access, the refusal as note), as
 * does a view or a foreign table deny rules cannot follow while one applies (foreign-tables.ts);
 * a parent one of whose descendants is a foreign table is marked to be read (and written) as
 * ONLY, the note saying why; a write that cascades into a table a deny forbids writing, runs a
 * foreign key check reading one a deny forbids (key-checks.ts), or fires a trigger whose function a deny names, is not offered (write-reach.ts; a trigger whose function
 * deny rules cannot trust is refused by query_database, not said here). Pure: the catalog's answers come from
 * ViewCatalog.reach, the denied tables from grantedTables (describe-database.ts).
 */
import { functionKey } from './analysis/names.js';
import { describePaths, reachRefusal } from './reach-paths.js';
import { widenRelations, type CatalogReach, type Widened } from './widened-relations.js';

/** Names listed in a note before the rest are counted. */
const LISTED = 5;

/** What the conditional deny rules on query_database forbid (grantedTables). */
export interface DeniedTables {
  /** A deny forbids touching them (reading or writing). */
  hidden: ReadonlySet<string>;
  /** A deny forbids writing them. */
  writeDenied: ReadonlySet<string>;
  /** A deny forbids calling them (functionKey spelling). */
  deniedFunctions: ReadonlySet<string>;
  /** Some conditional deny applies: query_database then refuses a view deny rules cannot follow. */
  conditional: boolean;
}

/** A relation's access once deny rules judge what it reaches. */
export interface RelationAccess {
  /** A deny forbids touching an ancestor: every statement naming the table is refused, so it is left out. */
  hidden: boolean;
  /** Why query_database refuses every read of the view (it is listed with no access, this as note). */
  refused?: string;
  /** Whether a granted write survives (false when a write would reach what a deny forbids writing). */
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
 * Judge `relation` (granted `write` or not) by what it reaches. `catalog` is null when no
 * conditional deny applies (the catalog was not asked): the access is as granted.
 */
export function relationAccess(relation: string, catalog: CatalogReach | null, granted: { write: boolean }, denied: DeniedTables): RelationAccess {
  if (!catalog || !denied.conditional) return { hidden: false, write: granted.write, requiresOnly: [] };
  const widen = (write: boolean, only: boolean): Widened =>
    widenRelations(
      // A write: any change of rows (each fires its own triggers and evaluates its own expressions: write-runs.ts).
      { statements: write ? ['insert', 'update', 'delete', 'truncate'] : ['select'], reads: write ? [] : [relation], writes: write ? [relation] : [], onlyRelations: only ? [relation] : [], functions: [] },
      catalog,
    );
  const touched = (w: Widened) => [...w.reads, ...w.writes].filter((r) => denied.hidden.has(r));
  // A write also reaches cascades, its triggers' (and evaluated expressions') functions (write-reach.ts) and, reading them, the tables its
  // foreign key checks read (key-checks.ts; a write names no read, so every read is one): a denied one makes it unwritable.
  const written = (w: Widened) => [
    ...w.writes.filter((r) => denied.writeDenied.has(r) || denied.hidden.has(r)),
    ...w.reads.filter((r) => denied.hidden.has(r)),
    ...[...w.triggered.values()].map((t) => t.fn).filter((f) => denied.deniedFunctions.has(functionKey(f))),
  ];
  const own = widen(false, true);
  const hits = [...touched(own), ...own.functions.filter((f) => denied.deniedFunctions.has(functionKey(f)))];
  const isView = catalog.views.has(relation) || catalog.systemViews.has(relation);
  if (hits.length) {
    if (!isView) return { hidden: true, write: false, requiresOnly: [] };
    const paths = describePaths(hits.map((h) => own.paths.get(h)!));
    return { hidden: false, refused: `reading it reaches what a deny rule forbids (${paths}); every statement reading it is refused`, write: false, requiresOnly: [] };
  }
  const [unknown] = own.unknown;
  if (unknown) return { hidden: false, refused: reachRefusal(unknown[0], unknown[1]).message, write: false, requiresOnly: [] };
  const write = granted.write && written(widen(true, true)).length === 0;
  const wide = widen(false, false);
  const untouchable = touched(wide);
  // Foreign descendants (views are no one's descendants): read without ONLY, refused as they are.
  const unfollowed = [...wide.unknown.keys()];
  const unwritable = write ? written(widen(true, false)).filter((r) => !denied.hidden.has(r)) : [];
  const requiresOnly: ('read' | 'write')[] = [];
  const notes: string[] = [];
  const both = write ? 'read and write' : 'read';
  if (untouchable.length || unfollowed.length) requiresOnly.push('read', ...(write ? (['write'] as const) : []));
  if (untouchable.length) {
    notes.push(`${both} it as ONLY ${relation}: without ONLY it reaches the rows of ${list(untouchable)}, which a deny rule forbids, and is refused`);
  }
  if (unfollowed.length) {
    notes.push(`${both} it as ONLY ${relation}: without ONLY it reaches the rows of foreign table ${list(unfollowed)}, which deny rules cannot follow, and is refused`);
  }
  if (unwritable.length) {
    if (!requiresOnly.includes('write')) requiresOnly.push('write');
    notes.push(`write it as ONLY ${relation}: without ONLY a write reaches ${list(unwritable)} (rows, or a trigger function), which a deny rule forbids writing (or calling), and is refused`);
  }
  return { hidden: false, write, requiresOnly, ...(notes.length ? { note: notes.join('; ') } : {}) };
}
