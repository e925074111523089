/**
 * The catalog's facts of a trigger that trigger-bodies.ts judges (TriggerFacts), as the part of
 * the constraint catalog's one cached query (constraint-catalog-sql.ts) that reads them: its
 * function's body when it is PL/pgSQL (or why not), its WHEN clause's columns and calls, the
 * columns of its table of a type outside pg_catalog, the names a body may use that also exist
 * outside pg_catalog, and two forms read without a body:
 * - `whenRowsDistinct`: the WHEN clause is exactly `OLD.* IS DISTINCT FROM NEW.*` (or NEW before
 *   OLD, or `OLD IS DISTINCT FROM NEW`): a DISTINCTEXPR of pg_catalog's record `=` (operator 2988,
 *   record_eq) over the two whole rows and nothing else (a PostgreSQL 16 Var's empty
 *   varnullingrels allowed; any other node text refuses); with `userEquality`, whether any
 *   default btree or hash operator class outside pg_catalog serves a type of pg_catalog
 *   (record_eq compares each column by its type's default class: user code would see the
 *   masked value); asked too when the body is read and says DISTINCT (trigger-bodies.ts reads
 *   `NEW IS DISTINCT FROM OLD` in a body as that clause).
 * - `moddatetime`: the column named when the function is contrib's moddatetime (a member,
 *   pg_depend deptype `e`, of the extension moddatetime, in C from `$libdir/moddatetime`, its
 *   symbol `moddatetime`; a language only a superuser creates functions in) with one argument.
 */

import { TRUSTED_EXTENSIONS } from './write-runs.js';

/** Helpers of constraint-catalog-sql.ts: the columns a stored expression reads, named; whether it calls a mutable or a user function. */
export interface TreeHelpers {
  attnames: (rel: string, nums: string) => string;
  vars: (tree: string) => string;
  mutable: (tree: string) => string;
  opaque: (tree: string) => string;
}

const WHEN_TREE = `COALESCE(t.tgqual::text, '')`;
const names = (list: readonly string[]) => `ARRAY[${list.map((x) => `'${x}'`).join(', ')}]::pg_catalog.name[]`;

/** A whole-row Var of the trigger's OLD (varno 1) or NEW (2) row, as a regular expression over the node text. */
const rowVar = (n: 1 | 2) =>
  `[{]VAR :varno ${n} :varattno 0 :vartype [0-9]+ :vartypmod -1 :varcollid 0( :varnullingrels [(]b[)])? :varlevelsup 0 :varnosyn ${n} :varattnosyn 0 :location -?[0-9]+[}]`;
const distinct = (a: 1 | 2, b: 1 | 2) => `^[{]DISTINCTEXPR :opno 2988 :opfuncid 2981 :opresulttype 16 :opretset false :opcollid 0 :inputcollid 0 :args [(]${rowVar(a)} ${rowVar(b)}[)] :location -?[0-9]+[}]$`;
const ROWS_DISTINCT = `(${WHEN_TREE} ~ '${distinct(1, 2)}' OR ${WHEN_TREE} ~ '${distinct(2, 1)}')`;

/**
 * A default btree or hash operator class outside pg_catalog for a type of pg_catalog, or for a
 * type one of pg_catalog's with no such class of its own is binary-coercible to (a cast WITHOUT
 * FUNCTION: the typcache may take that class for it): its equality is user code. Not one of a
 * trusted extension (write-runs.ts: citext's, in C, for varchar through its binary cast).
 */
const USER_EQUALITY = `EXISTS (SELECT 1 FROM pg_catalog.pg_opclass uo JOIN pg_catalog.pg_type uot ON uot.oid = uo.opcintype
        JOIN pg_catalog.pg_am uam ON uam.oid = uo.opcmethod WHERE uo.opcdefault AND uam.amname IN ('btree', 'hash')
        AND uo.opcnamespace <> 'pg_catalog'::pg_catalog.regnamespace AND (uot.typnamespace = 'pg_catalog'::pg_catalog.regnamespace
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast uc JOIN pg_catalog.pg_type ucs ON ucs.oid = uc.castsource
            WHERE uc.casttarget = uo.opcintype AND uc.castmethod = 'b' AND ucs.typnamespace = 'pg_catalog'::pg_catalog.regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_opclass ox WHERE ox.opcintype = uc.castsource AND ox.opcmethod = uo.opcmethod AND ox.opcdefault)))
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend ud JOIN pg_catalog.pg_extension ux ON ux.oid = ud.refobjid
          WHERE ud.classid = 'pg_catalog.pg_opclass'::pg_catalog.regclass AND ud.objid = uo.oid AND ud.deptype = 'e'
            AND ud.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND ux.extname IN (${TRUSTED_EXTENSIONS.map((e) => `'${e}'`).join(', ')})))`;

/** The column contrib's moddatetime sets, when the trigger's function (`tp`, language `tl`) is it with one argument. */
const MODDATETIME = `CASE WHEN t.tgnargs = 1 AND tl.lanname = 'c' AND tp.proname = 'moddatetime' AND tp.probin = '$libdir/moddatetime'
        AND tp.prosrc = 'moddatetime' AND pg_catalog.octet_length(t.tgargs) > 1
        AND pg_catalog.get_byte(t.tgargs, pg_catalog.octet_length(t.tgargs) - 1) = 0
        AND pg_catalog.position(t.tgargs, pg_catalog.decode('00', 'hex')) = pg_catalog.octet_length(t.tgargs)
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend md JOIN pg_catalog.pg_extension mx ON mx.oid = md.refobjid
          WHERE md.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND md.objid = tp.oid
            AND md.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND md.deptype = 'e' AND mx.extname = 'moddatetime')
      THEN pg_catalog.convert_from(pg_catalog.substr(t.tgargs, 1, pg_catalog.octet_length(t.tgargs) - 1), pg_catalog.getdatabaseencoding()) END`;

/** The trigger `t`'s function (`tp`, its language `tl`) as trigger-bodies.ts reads it: why not, or its body. */
const fnRefused = (cap: number) => `CASE WHEN tl.lanname IS DISTINCT FROM 'plpgsql' OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc h WHERE h.oid = tl.lanplcallfoid
        AND h.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND h.proname = 'plpgsql_call_handler') THEN 'is not written in PL/pgSQL'
      WHEN tp.prosecdef THEN 'is SECURITY DEFINER' WHEN tp.proconfig IS NOT NULL THEN 'SETs a configuration parameter'
      WHEN pg_catalog.length(tp.prosrc) > ${cap} THEN 'is too long to be read' END`;

/**
 * The `, 'trigger', json_build_object(...)` pair of a trigger's entry (TriggerFacts), for the
 * trigger `t`, its function `tp` and language `tl`; `cap` the longest body read, `functions`,
 * `operators` and `types` the names a body may use.
 */
export function triggerFactsSql(h: TreeHelpers, cap: number, functions: readonly string[], operators: readonly string[], types: readonly string[]): string {
  const refused = fnRefused(cap);
  return `, 'trigger', json_build_object('refused', ${refused}, 'body', CASE WHEN (${refused}) IS NULL THEN tp.prosrc END,
      'when', t.tgqual IS NOT NULL, 'whenColumns', ${h.attnames('t.tgrelid', h.vars(WHEN_TREE))}, 'whenWholeRow', ${WHEN_TREE} LIKE '%:varattno 0 %',
      'whenMutable', ${h.mutable(WHEN_TREE)}, 'whenOpaque', ${h.opaque(WHEN_TREE)},
      'whenRowsDistinct', ${ROWS_DISTINCT}, 'userEquality', CASE WHEN ${ROWS_DISTINCT} OR (${refused}) IS NULL AND tp.prosrc ~* 'distinct' THEN ${USER_EQUALITY} ELSE false END,
      'moddatetime', ${MODDATETIME},
      'userTyped', ARRAY(SELECT ua.attname::text FROM pg_catalog.pg_attribute ua JOIN pg_catalog.pg_type ut ON ut.oid = ua.atttypid
        WHERE ua.attrelid = t.tgrelid AND ua.attnum > 0 AND NOT ua.attisdropped AND ut.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace),
      'shadowed', ARRAY(SELECT DISTINCT sp.proname::text FROM pg_catalog.pg_proc sp WHERE sp.proname = ANY (${names(functions)})
          AND sp.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace)
        || ARRAY(SELECT DISTINCT so.oprname::text FROM pg_catalog.pg_operator so WHERE so.oprname = ANY (${names(operators)})
          AND so.oprnamespace <> 'pg_catalog'::pg_catalog.regnamespace)
        || ARRAY(SELECT DISTINCT sy.typname::text FROM pg_catalog.pg_type sy WHERE sy.typname = ANY (${names(types)})
          AND sy.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace))`;
}
