/**
 * The references one outermost conjunct (a WHERE or HAVING conjunct, an ORDER BY, DISTINCT ON or
 * GROUP BY item) makes, recorded while lineage.ts walks it (ctx.tracker), so predicates.ts can
 * tell a row filter from a join. A conjunct keeps or drops a row of one relation when every
 * column it names is one plain column, or plain columns of one base table's row: what it
 * compares them with is then a constant, a parameter or a value no other relation of the query
 * feeds. Naming a column of another relation of the query (a correlated reference from a
 * subquery inside it counts), or a computed column of a subquery or function in FROM, makes it
 * a join: the other side's columns come back as the value it matched
 * (`FROM users u, generate_series(1, 255) g WHERE g = ascii(u.email)` returns the code as g).
 * A value a subquery's output feeds into it is that subquery's result, not the row's.
 * Kept apart from predicates.ts so that lineage.ts can call it without an import cycle.
 */
import type { Ctx, Lin, Rel, RefTracker, Scope } from './context.js';
import { matchColumn } from './unqualified.js';
import type { SourceColumn } from './types.js';

/** The relations of the tracked scope a reference from `scope` may name: `rel` when qualified, else those that may have `name`. */
function candidates(tracker: RefTracker, scope: Scope, rel: Rel | null, name: string): Rel[] {
  if (rel) return tracker.scope.rels.includes(rel) ? [rel] : [];
  for (let s: Scope | null = scope; s; s = s.parent) {
    if (s === tracker.scope) return s.rels.filter((r) => r.alias === name || matchColumn(r, name) !== null);
    // A level that certainly has the name stops PostgreSQL's search before the tracked scope.
    if (s.rels.some((r) => matchColumn(r, name)?.certain)) return [];
  }
  return [];
}

/** Record a column reference (lineage.ts columnRef) while an outermost conjunct is walked. */
export function trackRef(ctx: Ctx, scope: Scope, rel: Rel | null, name: string, lin: Lin): void {
  const tracker = ctx.tracker;
  if (!tracker) return;
  const rels = candidates(tracker, scope, rel, name);
  if (rels.length === 0) return;
  const key = rel ? `${tracker.scope.rels.indexOf(rel)}\u0000${name}` : `?\u0000${name}`;
  tracker.refs.push({ rels, derived: lin.derived, key });
}

/** Record what a subquery directly inside a tracked conjunct returns into it (lineage.ts). */
export function trackSubquery(ctx: Ctx, sources: readonly SourceColumn[]): void {
  if (ctx.tracker && ctx.nested === 0) ctx.tracker.viaSubquery.push(...sources);
}

/** Whether a relation's column is the row's own value: a base table's. */
function baseTable(rel: Rel): boolean {
  return rel.kind === 'table';
}

/**
 * Which row a tracked conjunct that filters rows filters (PredicateColumn.row): the ids of the
 * relations its references may name, leaving out functions no column feeds (a bare name that
 * generate_series(1, 3) may also have is still the table's), as `1` or `1,3`.
 */
export function filteredRow(tracker: RefTracker, ctx: Ctx): string {
  const all = [...new Set(tracker.refs.flatMap((r) => r.rels))];
  const fed = all.filter((r) => r.kind !== 'opaque' || r.sources.length > 0);
  const ids = (fed.length ? fed : all).map((r) => {
    if (!ctx.rowIds.has(r)) ctx.rowIds.set(r, ctx.rowIds.size + 1);
    return ctx.rowIds.get(r)!;
  });
  return ids.sort((a, b) => a - b).join(',');
}

/**
 * Whether the tracked conjunct only filters rows: one plain column named (any number of times),
 * or plain columns of one base table, each reference naming that table and no other.
 */
export function filtersRows(tracker: RefTracker): boolean {
  const refs = tracker.refs;
  if (refs.some((r) => r.derived)) return false;
  if (new Set(refs.map((r) => r.key)).size <= 1) return true;
  const first = refs[0]!.rels[0]!;
  return baseTable(first) && refs.every((r) => r.rels.length === 1 && r.rels[0] === first);
}
