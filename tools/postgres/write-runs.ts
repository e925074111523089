/**
 * What a change of rows runs that the statement does not name, as PostgreSQL runs it: the
 * catalog query's part that lists it (view-reader.ts RELATIONS_SQL) and the events each runs on
 * (write-reach.ts judges the functions; widened-relations.ts decides which a write sets off).
 * - Triggers run on the events of their pg_trigger.tgtype (INSERT, UPDATE, DELETE, TRUNCATE).
 * - Expressions run on an INSERT and an UPDATE, never on a DELETE or TRUNCATE (PostgreSQL
 *   evaluates no DEFAULT, generated column, CHECK, index expression or partition key to remove
 *   a row): a table's CHECK and exclusion constraint, a generated column, an index expression
 *   or predicate (every non-HOT update inserts into every index), a partition key on every row
 *   an UPDATE writes; a column's DEFAULT, a domain's DEFAULT and CHECK only on an UPDATE that
 *   sets that column (`column`: the rest of the row is copied, not coerced).
 * - A function of a well-known extension is trusted (`trusted`): a member (pg_depend deptype
 *   'e') of uuid-ossp, pgcrypto, citext or moddatetime, in C from the extension's own module
 *   (probin '$libdir/<name>') or `internal` (built-in code): languages only a superuser may
 *   create functions in, so an agent's (or admin's) lookalike, in plpgsql or SQL, in the
 *   extension or not, is not. Those modules compute on their arguments and read no table.
 *   moddatetime's trigger function (its one member) reads no table either, but sets a column of
 *   the row its trigger fires for, one the statement need not name: the trigger's `col` is that
 *   column (its one argument), counted as written for `write_columns:` denies
 *   (widened-relations.ts); a trusted trigger whose column cannot be read writes its row whole.
 * Domains are followed through domains over domains, arrays, composite types' attributes and
 * range (and multirange) types over them.
 */

/** pg_trigger.tgtype's event bits (TRIGGER_TYPE_INSERT, _DELETE, _UPDATE, _TRUNCATE). */
export const INSERT = 4;
export const DELETE = 8;
export const UPDATE = 16;
export const TRUNCATE = 32;
export const ALL_EVENTS = INSERT | DELETE | UPDATE | TRUNCATE;
/** The events an expression runs on. */
const EVALUATED = INSERT | UPDATE;

/** Extensions whose C (and internal) functions are trusted: they read and write no table. */
export const TRUSTED_EXTENSIONS: readonly string[] = ['uuid-ossp', 'pgcrypto', 'citext', 'moddatetime'];

/** Whether the function `p` (a pg_proc row alias) is a trusted extension's (see the top of the file). */
const trusted = (p: string) => `EXISTS (SELECT 1 FROM pg_catalog.pg_depend xd
    JOIN pg_catalog.pg_extension x ON x.oid = xd.refobjid JOIN pg_catalog.pg_language xl ON xl.oid = ${p}.prolang
    WHERE xd.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND xd.objid = ${p}.oid
      AND xd.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND xd.deptype = 'e'
      AND x.extname IN (${TRUSTED_EXTENSIONS.map((e) => `'${e}'`).join(', ')})
      AND (xl.lanname = 'internal' OR (xl.lanname = 'c' AND ${p}.probin = '$libdir/' || x.extname)))`;

/**
 * The column a trigger `t` of moddatetime's C function (`p`) sets: its one argument (tgargs holds
 * each argument NUL-terminated); NULL for any other trigger, or an argument list not of that shape.
 */
const SETS = `CASE WHEN p.probin = '$libdir/moddatetime' AND t.tgnargs = 1 AND pg_catalog.octet_length(t.tgargs) > 1
            AND pg_catalog.position(t.tgargs, pg_catalog.decode('00', 'hex')) = pg_catalog.octet_length(t.tgargs)
          THEN pg_catalog.convert_from(pg_catalog.substr(t.tgargs, 1, pg_catalog.octet_length(t.tgargs) - 1), pg_catalog.getdatabaseencoding()) END`;

/** A function's name as facts spell it (pg_catalog's bare). */
const fnName = (p: string, n: string) => `CASE WHEN ${n}.nspname = 'pg_catalog' THEN ${p}.proname::text ELSE ${n}.nspname::text || '.' || ${p}.proname::text END`;

/**
 * The CTEs of RELATIONS_SQL (after `up` and `down`, for the relation `c`; `nameOf` spells a
 * relation's oid as schema.name) that list what a change of rows runs, as `runs(oid, tgname,
 * tgrelid, fn, expr, events, col, trusted)`: the triggers (`tg`) and the functions the
 * expressions call (`dc`, from pg_depend, an operator's function included; built-in ones are
 * pinned, so never listed): the CHECKs and exclusion constraints, DEFAULTs, generated columns
 * and index expressions and predicates of the relation and its descendants (`fam`), the
 * partition key expressions of those and of its ancestors, and the CHECKs and DEFAULTs of the
 * domains their columns are of (`doms`, by the column types they are reached from, each type
 * once; types of pg_catalog hold no user domain, so are not opened; a function found is then
 * listed for each column of that type, `cols`), named in words (`exprs`). Joined from `fam` so
 * that each catalog is read through its index on the relation.
 */
export function runsSql(nameOf: (oid: string) => string): string {
  return `tg(oid, tgname, tgrelid, fn, expr, events, col, trusted) AS (SELECT t.oid, t.tgname::text, t.tgrelid, ${fnName('p', 'pn')}, false,
          t.tgtype::int & ${ALL_EVENTS}, ${SETS}, ${trusted('p')}
        FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
        WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND (t.tgrelid = c.oid OR t.tgrelid IN (SELECT oid FROM down)
          OR t.tgrelid IN (SELECT up.oid FROM up JOIN pg_catalog.pg_class uc ON uc.oid = up.oid WHERE uc.relkind = 'p'))),
    fam(oid) AS (SELECT c.oid UNION ALL SELECT oid FROM down),
    cols(relid, col, typ) AS (SELECT a.attrelid, a.attname::text, a.atttypid FROM fam JOIN pg_catalog.pg_attribute a ON a.attrelid = fam.oid WHERE a.attnum > 0 AND NOT a.attisdropped),
    doms(root, oid) AS (SELECT DISTINCT typ, typ FROM cols
      UNION SELECT d.root, v.x FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid AND dt.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace
        LEFT JOIN pg_catalog.pg_attribute ca ON dt.typrelid <> 0 AND ca.attrelid = dt.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped
        LEFT JOIN pg_catalog.pg_range rg ON rg.rngtypid = dt.oid LEFT JOIN pg_catalog.pg_range mr ON mr.rngmultitypid = dt.oid
        CROSS JOIN LATERAL (VALUES (dt.typbasetype), (dt.typelem), (ca.atttypid), (rg.rngsubtype), (mr.rngtypid)) v(x) WHERE v.x <> 0),
    exprs(classid, objid, name, relid, col, root) AS (
      SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, 'table ' || ${nameOf('k.conrelid')} || '''s ' || CASE k.contype WHEN 'c' THEN 'CHECK ' ELSE 'constraint ' END || k.conname::text, k.conrelid, NULL::text, NULL::oid
        FROM fam JOIN pg_catalog.pg_constraint k ON k.conrelid = fam.oid WHERE k.contype IN ('c', 'x')
      UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, ad.oid, CASE WHEN aa.attgenerated <> '' THEN 'generated column ' || ${nameOf('ad.adrelid')} || '.' || aa.attname::text
          ELSE 'column ' || ${nameOf('ad.adrelid')} || '.' || aa.attname::text || '''s DEFAULT' END, ad.adrelid, CASE WHEN aa.attgenerated = '' THEN aa.attname::text END, NULL
        FROM fam JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = fam.oid JOIN pg_catalog.pg_attribute aa ON aa.attrelid = ad.adrelid AND aa.attnum = ad.adnum
      UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, x.indexrelid, 'index ' || ${nameOf('x.indexrelid')} || '''s '
          || CASE WHEN x.indpred IS NULL THEN 'expression' WHEN x.indexprs IS NULL THEN 'predicate' ELSE 'expression or predicate' END, x.indrelid, NULL, NULL
        FROM fam JOIN pg_catalog.pg_index x ON x.indrelid = fam.oid WHERE x.indexprs IS NOT NULL OR x.indpred IS NOT NULL
      UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, pt.partrelid, 'partition key of ' || ${nameOf('pt.partrelid')}, pt.partrelid, NULL, NULL
        FROM pg_catalog.pg_partitioned_table pt WHERE pt.partexprs IS NOT NULL AND (pt.partrelid IN (SELECT oid FROM fam) OR pt.partrelid IN (SELECT oid FROM up))
      UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, 'domain ' || dn.nspname::text || '.' || dt.typname::text || '''s CHECK ' || k.conname::text, c.oid, NULL, d.root
        FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid AND dt.typtype = 'd' JOIN pg_catalog.pg_namespace dn ON dn.oid = dt.typnamespace
        JOIN pg_catalog.pg_constraint k ON k.contypid = dt.oid AND k.contype = 'c'
      UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, dt.oid, 'domain ' || dn.nspname::text || '.' || dt.typname::text || '''s DEFAULT', c.oid, NULL, d.root
        FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid AND dt.typtype = 'd' AND dt.typdefaultbin IS NOT NULL
        JOIN pg_catalog.pg_namespace dn ON dn.oid = dt.typnamespace),
    dc(oid, tgname, tgrelid, fn, expr, events, col, trusted, root) AS (SELECT e.objid, e.name, e.relid, ${fnName('p', 'pn')}, true, ${EVALUATED}, e.col, ${trusted('p')}, e.root
        FROM exprs e CROSS JOIN LATERAL (SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d WHERE d.classid = e.classid AND d.objid = e.objid OFFSET 0) dp
        JOIN pg_catalog.pg_proc p ON p.oid = CASE dp.refclassid WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN dp.refobjid
            WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT o.oprcode::oid FROM pg_catalog.pg_operator o WHERE o.oid = dp.refobjid) END
        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
        WHERE e.classid <> 'pg_catalog.pg_type'::pg_catalog.regclass OR p.oid NOT IN (SELECT y.f::oid FROM pg_catalog.pg_type yt
          CROSS JOIN LATERAL (VALUES (yt.typinput), (yt.typoutput), (yt.typreceive), (yt.typsend), (yt.typmodin), (yt.typmodout), (yt.typanalyze)) y(f) WHERE yt.oid = e.objid)),
    runs(oid, tgname, tgrelid, fn, expr, events, col, trusted) AS (SELECT * FROM tg
      UNION SELECT dc.oid, dc.tgname, dc.tgrelid, dc.fn, dc.expr, dc.events, dc.col, dc.trusted FROM dc WHERE dc.root IS NULL
      UNION SELECT dc.oid, dc.tgname || ' on ' || ${nameOf('cl.relid')} || '.' || cl.col, cl.relid, dc.fn, dc.expr, dc.events, cl.col, dc.trusted
        FROM dc JOIN cols cl ON cl.typ = dc.root)`;
}

/** The order of the `runs` arrays (one per column, lined up). */
export const RUNS_ORDER = 'ORDER BY t.oid, t.tgname, t.fn, t.expr, t.events, t.col, t.trusted';

/**
 * The events a statement's kinds cause on the relations it writes (every written relation gets
 * them all: which kind writes which relation is not kept). An INSERT ... ON CONFLICT DO UPDATE
 * is reported as insert and update.
 */
export function statementEvents(statements: readonly string[]): number {
  let events = 0;
  if (statements.includes('insert')) events |= INSERT;
  if (statements.includes('update')) events |= UPDATE;
  if (statements.includes('delete')) events |= DELETE;
  if (statements.includes('truncate')) events |= TRUNCATE;
  return events;
}

/**
 * The events whose triggers (and foreign key actions) fire on a change `events`: an UPDATE that
 * moves a row to another partition deletes it from one and inserts it into the other, firing
 * their row triggers (and, before PostgreSQL 15, the ON DELETE actions of keys referencing it).
 */
export function firing(events: number): number {
  return events & UPDATE ? events | INSERT | DELETE : events;
}

/**
 * What a foreign key's actions (`actions`, in view-reader.ts's words: "ON DELETE CASCADE /
 * ON UPDATE SET NULL") do to the referencing table on a change `events` of the referenced one:
 * ON DELETE CASCADE deletes, every other action updates; an action whose event is not among
 * them does nothing. Words not understood: every event (fail closed).
 */
export function cascadeEvents(actions: string | undefined, events: number): number {
  if (actions === undefined) return ALL_EVENTS;
  const fires = firing(events);
  let out = 0;
  for (const a of actions.split(' / ')) {
    const m = /^ON (DELETE|UPDATE) (CASCADE|SET NULL|SET DEFAULT)$/.exec(a);
    if (!m) return ALL_EVENTS;
    if (!(fires & (m[1] === 'DELETE' ? DELETE : UPDATE))) continue;
    out |= m[1] === 'DELETE' && m[2] === 'CASCADE' ? DELETE : UPDATE;
  }
  return out;
}

/**
 * Whether a change `events` of rows whose written columns are `columns` ('*' the whole row) runs
 * what has events `runsOn` (absent: every event) and `column` (see the top of the file).
 * `trigger`: a trigger's events fire as `firing` says.
 */
export function runsOn(events: number, columns: readonly string[], runsOn: number | undefined, column: string | undefined, trigger: boolean): boolean {
  const hit = (trigger ? firing(events) : events) & (runsOn ?? ALL_EVENTS);
  if (!hit) return false;
  if (column === undefined || hit !== UPDATE) return true;
  return columns.includes('*') || columns.includes(column);
}
