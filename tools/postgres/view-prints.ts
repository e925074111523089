/**
 * Whether the view definitions a masked call was judged by are still the catalog's. Masking
 * follows a result field's view to its base columns by the view's definition, read from the
 * catalog and cached up to 60 s (view-catalog.ts); a view redefined meanwhile by an admin, or
 * through another Warden replica (whose writes forget only its own caches), would have its new
 * columns masked by the old lineage (`CREATE OR REPLACE VIEW v AS SELECT id, email AS note`:
 * every email in clear). So each definition is read with its print (the `_RETURN` rule's row:
 * its oid, xmin and a hash of its parsed action, and a hash of the view's column names), the
 * prints a call used are kept on its Caller and compared with the catalog's by the query its
 * statement sends as its trailer (relation-prints.ts: in the read's round trip, or in the
 * write's transaction before COMMIT). A change committed before the statement was parsed is
 * seen; one between the parse and the check is a false refusal (fail closed).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/**
 * The print of the view whose pg_class row is `c` (an SQL expression; NULL when it has no
 * `_RETURN` rule). The xmin changes with every CREATE OR REPLACE, also one back to an earlier
 * text; the column names with ALTER VIEW ... RENAME COLUMN, which leaves the rule as it is.
 */
export const viewPrintSql = (c: string): string => `(SELECT r.oid::text || ':' || r.xmin::text || ':' || pg_catalog.md5(r.ev_action::text)
  FROM pg_catalog.pg_rewrite r WHERE r.ev_class = ${c}.oid AND r.rulename = '_RETURN') || ':' || ${c}.relkind::text || ':' || pg_catalog.md5(ARRAY(
  SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${c}.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text)`;

/** Never a print: a view met twice in one call with two different prints (its definition changed within the call). */
export const CHANGED_PRINT = '\u0000changed';

/** Keep `print` as the one a call used for `view` (`prints`: the call's, Caller.viewPrints); two differing prints never match anything. */
export function notePrint(prints: Map<string, string> | undefined, view: string, print: string | null | undefined): void {
  if (!prints) return;
  const had = prints.get(view);
  const now = print ?? CHANGED_PRINT;
  prints.set(view, had === undefined || had === now ? now : CHANGED_PRINT);
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
