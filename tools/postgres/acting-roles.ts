/**
 * The roles a PostgreSQL session can act as, and the views and rules through which a role reaches
 * a relation, for the checks of a pool that opens (store-reach.ts, outbound-reach.ts). Why: a
 * privilege an agent's role lacks is still its own when a role it can act as holds it, and a view
 * (or a rule) reads the relations it names as its owner, as a SECURITY DEFINER function runs as
 * its owner: each read the store's masking key for a role with no right of its own.
 */

/** A dependency (pg_depend row `d`) on a function, operator or type of the database's own (oid past the built-in ones). */
const USER_REF = `d.refobjid >= 16384 AND d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass, 'pg_catalog.pg_type'::pg_catalog.regclass)`;

/**
 * The types whose values a write checks with code of the database's own, as the role the write
 * runs as: a domain whose CHECK constraints or DEFAULT name a function, operator or type of the
 * database's own (USER_REF; its own base type aside: a domain over an enum runs no code), a
 * domain over one, an array, range or multirange of one, and a composite type (a table's row type
 * too) with an attribute of one (a recursive CTE; one recursive reference, so one join).
 */
const CODED_TYPES = `coded_types(t) AS (
    SELECT x.contypid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_constraint x ON x.oid = d.objid WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND x.contypid <> 0 AND ${USER_REF}
    UNION SELECT y.oid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_type y ON y.oid = d.objid WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND y.typtype = 'd' AND d.refobjid <> y.typbasetype AND ${USER_REF}
    UNION SELECT y.oid FROM coded_types c JOIN pg_catalog.pg_type y ON y.typbasetype = c.t OR y.typelem = c.t
      OR y.oid IN (SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngsubtype = c.t UNION ALL SELECT r.rngmultitypid FROM pg_catalog.pg_range r WHERE r.rngtypid = c.t)
      OR y.typrelid IN (SELECT a.attrelid FROM pg_catalog.pg_attribute a WHERE a.atttypid = c.t AND a.attnum > 0 AND NOT a.attisdropped))`;

/**
 * The tables with code of their own a write to them evaluates as the role the write runs as: an
 * enabled trigger, a rule, or a default, generated column, check or index expression naming a
 * function, operator or type of the database's own (oid past the built-in ones), or a column of a
 * type checked by such code (CODED_TYPES: a domain's CHECK runs on each value written, its
 * DEFAULT on each row that names no value). Set-based, read once per check (per table it scanned
 * pg_depend for each cascade pair: minutes on a deep chain).
 */
const CODED = `SELECT g.tgrelid AS rel FROM pg_catalog.pg_trigger g WHERE NOT g.tgisinternal AND g.tgenabled <> 'D'
      UNION SELECT w.ev_class FROM pg_catalog.pg_rewrite w
      UNION SELECT x.adrelid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attrdef x ON x.oid = d.objid WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND ${USER_REF}
      UNION SELECT x.conrelid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_constraint x ON x.oid = d.objid WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND ${USER_REF}
      UNION SELECT x.indrelid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_index x ON x.indexrelid = d.objid WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ${USER_REF}
      UNION SELECT a.attrelid FROM pg_catalog.pg_attribute a JOIN coded_types t ON t.t = a.atttypid WHERE a.attnum > 0 AND NOT a.attisdropped`;

/**
 * Each table (root) a write to which reaches, through ON DELETE / ON UPDATE actions at any depth,
 * a table whose partition tree holds code (CODED), with the owners that code runs as (the table's,
 * the coded partition's, its SECURITY DEFINER trigger functions') and the table as via. Why this
 * shape: the code and each table's partition ancestors are read once (a partitioned table's tree
 * holds a table when the table or one of its ancestors is it), and the walk goes up from the
 * reached tables over the action edges once (UNION stops cycles); DEFINERS keeps a row per root
 * and owner. A partition tree read per edge and per coded table, and a row per table pair, took 50-90 ms
 * on a chain of 200 tables with 800 more in fans (now 20-30 ms; storeSafePool runs it without JIT).
 */
const CASCADES = `WITH RECURSIVE ${CODED_TYPES},
    coded AS MATERIALIZED (${CODED}),
    edges AS MATERIALIZED (SELECT DISTINCT k.confrelid AS up, k.conrelid AS down FROM pg_catalog.pg_constraint k
      WHERE k.contype = 'f' AND (k.confdeltype IN ('c', 'n', 'd') OR k.confupdtype IN ('c', 'n', 'd'))),
    hooks AS MATERIALIZED (SELECT g.tgrelid AS rel, f.proowner AS owner FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_proc f ON f.oid = g.tgfoid WHERE f.prosecdef),
    uppers AS MATERIALIZED (SELECT x.rel AS low, a.high FROM (SELECT rel FROM coded UNION SELECT rel FROM hooks) x
      CROSS JOIN LATERAL (SELECT x.rel AS high UNION SELECT t.relid FROM pg_catalog.pg_partition_ancestors(x.rel) t) a),
    held AS MATERIALIZED (SELECT DISTINCT u.high AS rel FROM uppers u JOIN coded x ON x.rel = u.low),
    marks AS MATERIALIZED (SELECT m.rel, m.owner, 'cascade ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(q.relname) AS via
      FROM (SELECT h.rel, q.relowner AS owner FROM held h JOIN pg_catalog.pg_class q ON q.oid = h.rel
        UNION SELECT u.high, r.relowner FROM uppers u JOIN coded x ON x.rel = u.low JOIN pg_catalog.pg_class r ON r.oid = u.low
        UNION SELECT u.high, k.owner FROM uppers u JOIN hooks k ON k.rel = u.low JOIN held h ON h.rel = u.high) m
      JOIN pg_catalog.pg_class q ON q.oid = m.rel JOIN pg_catalog.pg_namespace n ON n.oid = q.relnamespace),
    cascades(root, rel) AS (SELECT e.up, e.down FROM edges e JOIN held h ON h.rel = e.down
      UNION SELECT e.up, c.rel FROM cascades c JOIN edges e ON e.down = c.root)
  SELECT c.root, m.owner, m.via FROM cascades c JOIN marks m ON m.rel = c.rel`;

/**
 * Each role code runs as for a caller, and what fires it (kind): a SECURITY DEFINER function
 * called ('call', EXECUTE asked of target) or a trigger of one on a table (target; 'write': a write to it
 * fires it, no EXECUTE asked of the writer); a SECURITY DEFINER event trigger function ('ddl': any
 * DDL statement fires it, `DROP TABLE IF EXISTS` of nothing needs no privilege); and, for a write
 * to a table (target) whose foreign keys' ON DELETE / ON UPDATE actions reach another table, at
 * any depth, that table's owner when it has code of its own (CODED: the action's statement
 * runs as the referencing table's owner, so its BEFORE triggers, rules and expressions do too)
 * and the owners of its SECURITY DEFINER trigger functions.
 */
const DEFINERS = `SELECT p.proowner AS owner, p.oid::pg_catalog.regprocedure::text AS via, p.oid AS target, 'call' AS kind FROM pg_catalog.pg_proc p WHERE p.prosecdef
    UNION ALL
    SELECT p.proowner, 'trigger ' || p.oid::pg_catalog.regprocedure::text, t.tgrelid, 'write' FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid WHERE p.prosecdef
    UNION ALL
    SELECT p.proowner, 'event ' || p.oid::pg_catalog.regprocedure::text, 0::pg_catalog.oid, 'ddl' FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
      WHERE p.prosecdef AND e.evtenabled <> 'D'
    UNION ALL
    SELECT w.owner, min(w.via), w.root, 'write' FROM (${CASCADES}) w GROUP BY w.root, w.owner`;

/** Whether role `a` runs definer `d` (an SQL condition), another role's, when `a` is no superuser. */
const RUNS = (a: string, d: string): string => `${d}.owner <> ${a}
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles s WHERE s.oid = ${a} AND s.rolsuper)
    AND CASE ${d}.kind WHEN 'call' THEN pg_catalog.has_function_privilege(${a}, ${d}.target, 'EXECUTE') WHEN 'ddl' THEN true
      ELSE pg_catalog.has_table_privilege(${a}, ${d}.target, 'INSERT,UPDATE,DELETE,TRUNCATE') OR pg_catalog.has_any_column_privilege(${a}, ${d}.target, 'INSERT,UPDATE') END`;

/**
 * The roles this session can act as, each with how: its own role and every role it is a member of
 * (NOINHERIT too: `set_config('role', ...)` in a select list gives the rest of that one statement
 * the role's privileges, as query_to_xml's query text showed; and a function `SET role` runs as it),
 * then, to any depth, the owner of every SECURITY DEFINER function one of them may execute (the
 * function runs as its owner, whatever its body) or whose trigger a write it may make fires (no
 * EXECUTE is asked of the writer), of every SECURITY DEFINER event trigger function (any DDL fires
 * it), and of every table with code of its own that a write of theirs reaches through foreign key
 * actions (and its SECURITY DEFINER triggers' owners) (DEFINERS). A SECURITY DEFINER function cannot SET ROLE. A
 * superuser holds what any other role does, so none is followed from one (every role is its member).
 * Why shared: store-reach.ts and outbound-reach.ts judge both as these roles. Columns: oid, via ('' the
 * session's own role, 'member', the SECURITY DEFINER function's signature, 'trigger ' or 'event ' and it, or 'cascade ' and the table).
 */
export const ACTORS_SQL = `WITH RECURSIVE definers AS MATERIALIZED (${DEFINERS}),
  reach(oid) AS (
    SELECT r.oid FROM pg_catalog.pg_roles r WHERE pg_catalog.pg_has_role(r.oid, 'MEMBER')
      AND (r.rolname = current_user OR NOT (SELECT s.rolsuper FROM pg_catalog.pg_roles s WHERE s.rolname = current_user))
    UNION
    SELECT d.owner FROM reach a JOIN definers d ON ${RUNS('a.oid', 'd')}),
  runs AS MATERIALIZED (SELECT d.owner, min(d.via) AS via FROM reach a JOIN definers d ON ${RUNS('a.oid', 'd')} GROUP BY d.owner)
  SELECT r.oid, CASE WHEN r.oid = (SELECT u.oid FROM pg_catalog.pg_roles u WHERE u.rolname = current_user) THEN ''
    WHEN pg_catalog.pg_has_role(r.oid, 'MEMBER') THEN 'member' ELSE (SELECT u.via FROM runs u WHERE u.owner = r.oid) END AS via
  FROM reach r`;

/**
 * An SQL expression: the first view (or table with rules) `role` may read or write (in a schema it
 * may use) whose rules reach relation `rel`, at any depth of views, as "schema.name"; NULL when
 * none. Both arguments are SQL expressions (oids). Every such view counts, whoever owns it: a
 * view's rule reads as the view's owner, a rule's action writes or reads as its table's owner.
 */
export function viewReaching(rel: string, role: string): string {
  const rules = `pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass`;
  return `(WITH RECURSIVE readers(oid) AS (
      SELECT r.ev_class FROM ${rules} WHERE d.refobjid = ${rel} AND r.ev_class <> d.refobjid
      UNION
      SELECT r.ev_class FROM readers x JOIN ${rules} ON d.refobjid = x.oid WHERE r.ev_class <> x.oid)
    SELECT min(pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(vc.relname)) FROM readers v
      JOIN pg_catalog.pg_class vc ON vc.oid = v.oid JOIN pg_catalog.pg_namespace n ON n.oid = vc.relnamespace
    WHERE pg_catalog.has_schema_privilege(${role}, n.oid, 'USAGE') AND (pg_catalog.has_table_privilege(${role}, vc.oid, 'SELECT,INSERT,UPDATE,DELETE')
      OR pg_catalog.has_any_column_privilege(${role}, vc.oid, 'SELECT,INSERT,UPDATE')))`;
}

/** How the session acts as `o.actor` (ACTORS_SQL's via), in words. Why exported: store-reach.ts says the same. */
export function actingAs(o: { actor: string; via: string }): string {
  const how = o.via === 'member' ? 'a role it is a member of (SET ROLE, NOINHERIT too)'
    : o.via.startsWith('event ') ? `the owner of SECURITY DEFINER event trigger function ${o.via.slice(6)}, which any DDL statement fires`
    : o.via.startsWith('cascade ') ? `the owner of ${o.via.slice(8)} or of its SECURITY DEFINER trigger functions, whose code a foreign key action of a write it may make runs as that owner`
    : o.via.startsWith('trigger ') ? `the owner of SECURITY DEFINER trigger function ${o.via.slice(8)}, which a write it may make fires`
    : `the owner of SECURITY DEFINER ${o.via}, which it may execute`;
  return `as role ${o.actor}, ${how}`;
}

