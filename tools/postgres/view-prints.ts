/**
 * Whether the view definitions a masked call was judged by are still the catalog's. Masking
 * follows a result field's view to its base columns by the view's definition, read from the
 * catalog and cached up to 60 s (view-catalog.ts); a view redefined meanwhile by an admin, or
 * through another Warden replica (whose writes forget only its own caches), would have its new
 * columns masked by the old lineage (`CREATE OR REPLACE VIEW v AS SELECT id, email AS note`:
 * every email in clear). So each definition is read with its print (the `_RETURN` rule's row:
 * its oid, xmin and a hash of its parsed action, and a hash of the view's column names), the
 * prints a call used are kept on its Caller, and, when it used any under masks, one catalog
 * query after its statement (a read) or inside its transaction before COMMIT (a write)
 * compares them with the catalog's. A change committed before the statement was parsed is seen;
 * one between the parse and the check is a false refusal (fail closed). A read or write that
 * followed no view asks nothing: no round trip on the hot path.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { CatalogRecheck } from './catalog-lock.js';

/**
 * The print of the view whose pg_class row is `c` (an SQL expression; NULL when it has no
 * `_RETURN` rule). The xmin changes with every CREATE OR REPLACE, also one back to an earlier
 * text; the column names with ALTER VIEW ... RENAME COLUMN, which leaves the rule as it is.
 */
export const viewPrintSql = (c: string): string => `(SELECT r.oid::text || ':' || r.xmin::text || ':' || pg_catalog.md5(r.ev_action::text)
  FROM pg_catalog.pg_rewrite r WHERE r.ev_class = ${c}.oid AND r.rulename = '_RETURN') || ':' || ${c}.relkind::text || ':' || pg_catalog.md5(ARRAY(
  SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${c}.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text)`;

/** The prints of the named views now (a name the catalog no longer has, or no view, prints NULL). */
const PRINTS_SQL = `SELECT q.name, ${viewPrintSql('c')} AS print
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel`;

/** Never a print: a view met twice in one call with two different prints (its definition changed within the call). */
export const CHANGED_PRINT = '\u0000changed';

/** Keep `print` as the one a call used for `view` (`prints`: the call's, Caller.viewPrints); two differing prints never match anything. */
export function notePrint(prints: Map<string, string> | undefined, view: string, print: string | null | undefined): void {
  if (!prints) return;
  const had = prints.get(view);
  const now = print ?? CHANGED_PRINT;
  prints.set(view, had === undefined || had === now ? now : CHANGED_PRINT);
}

/**
 * The catalog query that re-reads `prints`' views, and whether its answer is the same (every
 * view found, each with the print the call used). `split` parts schema.name as the reader does.
 */
export function viewPrintsCheck(prints: ReadonlyMap<string, string>, split: (names: readonly string[]) => unknown[]): CatalogRecheck {
  const expected = new Map(prints);
  const names = [...expected.keys()];
  return {
    text: PRINTS_SQL,
    values: split(names),
    same(rows) {
      const now = new Map((rows as { name: string; print: string | null }[]).map((r) => [r.name, r.print]));
      return names.every((v) => now.get(v) === expected.get(v));
    },
  };
}

/** The refusal when a view the call was judged by was redefined meanwhile (coded; names the views, never a value). */
export function viewsChanged(prints: ReadonlyMap<string, string>, wrote: boolean): WardenError {
  const views = [...prints.keys()].join(', ');
  return new WardenError(
    ErrorCode.DENIED,
    `a view this call's masks were judged through (${views}) was redefined meanwhile (by an admin or through another Warden); ` +
      (wrote
        ? 'under masks a write returns rows only through the definitions it was judged by, so nothing was committed; '
        : 'under masks rows are returned only through the definitions they were judged by, so none were; ') +
      'Warden\'s catalog answers are forgotten: ask again to have it judged anew',
    { ruleIds: ['masking.columns'], reason: 'view redefined between check and statement' },
  );
}
