/**
 * Unqualified column references (`ssn`, not `u.ssn`), resolved without the catalog.
 *
 * PostgreSQL looks a bare name up among the columns of the innermost query level's relations,
 * then of each enclosing level (a correlated reference), and only when no level has such a
 * column reads it as a relation's whole row. The analyser does not know a base table's columns,
 * nor always the name PostgreSQL gives an unaliased expression (`CASE ...` is "case", a scalar
 * subquery is named by its column, `trim(x)` is "btrim"), so stopping at the first relation that
 * might have the name let a value come from elsewhere unseen:
 * `SELECT (SELECT ssn FROM orders LIMIT 1) FROM users` returns users.ssn (orders has no ssn),
 * `SELECT "case" FROM orders, (SELECT CASE WHEN true THEN ssn END FROM users) s` returns s's
 * computed ssn. So a name counts every relation that may have it, level by level outward, and
 * stops only at a level where some relation certainly has it: a subquery's column named by an
 * alias or a plain column reference, or a function's declared column. The lineage is then the
 * union of all of them (a value may be masked more than it needs; never less).
 */
import type { Lin, OutCol, Rel, Scope } from './context.js';
import { uniqSources, wholeRow } from './context.js';

/** Lineage of `name` in one relation, and whether PostgreSQL certainly finds it there. */
export interface Match {
  lin: Lin;
  certain: boolean;
}

function union(parts: Lin[]): Lin {
  return { sources: uniqSources(parts.flatMap((p) => p.sources)), derived: parts.some((p) => p.derived) };
}

function ofCols(cols: readonly OutCol[]): Lin {
  return union(cols.map((c) => ({ sources: c.sources, derived: c.derived })));
}

/**
 * What `name` may be in `rel`: a base table may or may not have it (only the catalog knows); a
 * subquery has it certainly when one of its columns is named so by an alias or a column
 * reference, and may have it under any guessed name or through a `*`; a function source has its
 * declared columns certainly and may have others (a composite result's columns), unless it is a
 * built-in whose columns are all known (exact: generate_series, unnest of an array of scalars).
 */
export function matchColumn(rel: Rel, name: string): Match | null {
  if (rel.kind === 'table') return { lin: { sources: [{ table: rel.table, column: name }], derived: false }, certain: false };
  if (rel.kind === 'opaque') {
    const certain = rel.names.includes(name);
    // A function whose columns are all known (generate_series(1, 3) g has g only) has no other.
    if (!certain && rel.exact) return null;
    return { lin: { sources: rel.sources, derived: true }, certain };
  }
  const named = rel.cols.filter((c) => !c.starRel && !c.guessed && c.name === name);
  if (named.length > 0) return { lin: ofCols(named), certain: true };
  const guessed = rel.cols.filter((c) => !c.starRel && c.guessed);
  const viaStar = rel.cols.flatMap((c) => (c.starRel ? [matchColumn(c.starRel, name)] : [])).filter((m): m is Match => m !== null);
  if (guessed.length === 0 && viaStar.length === 0) return null;
  return { lin: union([...(guessed.length ? [ofCols(guessed)] : []), ...viaStar.map((m) => m.lin)]), certain: viaStar.some((m) => m.certain) };
}

/**
 * Lineage of the bare name `name` seen from `scope`, or null when no relation in any enclosing
 * scope may have it. A relation named `name` counts as its whole row (PostgreSQL's fallback), at
 * that level, without ending the search: a column of an outer level wins over it.
 */
export function resolveUnqualified(scope: Scope, name: string): Lin | null {
  const found: Lin[] = [];
  for (let s: Scope | null = scope; s; s = s.parent) {
    let certain = false;
    for (const rel of s.rels) {
      const m = matchColumn(rel, name);
      if (m) {
        found.push(m.lin);
        certain ||= m.certain;
      }
      // A relation's name as a value is its whole row in one composite value: a table's is
      // marked by '*' sources; any other relation's counts as computed (on_derived applies).
      if (rel.alias === name) found.push({ sources: wholeRow(rel), derived: rel.kind !== 'table' });
    }
    if (certain) break;
  }
  return found.length > 0 ? union(found) : null;
}
