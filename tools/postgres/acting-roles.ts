/**
 * The roles a PostgreSQL session can act as, and the views and rules through which a role reaches
 * a relation, for the checks of a pool that opens (store-reach.ts, outbound-reach.ts). Why: a
 * privilege an agent's role lacks is still its own when a role it can act as holds it, and a view
 * (or a rule) reads the relations it names as its owner, as a SECURITY DEFINER function runs as
 * its owner: each read the store's masking key for a role with no right of its own.
 */

/**
 * Each SECURITY DEFINER function that runs as its owner for a caller: called (EXECUTE asked), or
 * as a trigger of a table (tgrelid: a write to it fires it, no EXECUTE asked of the writer).
 */
const DEFINERS = `SELECT p.oid, p.proowner AS owner, p.oid::pg_catalog.regprocedure::text AS via, 0::pg_catalog.oid AS tgrelid FROM pg_catalog.pg_proc p WHERE p.prosecdef
    UNION ALL
    SELECT p.oid, p.proowner, 'trigger ' || p.oid::pg_catalog.regprocedure::text, t.tgrelid FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid WHERE p.prosecdef`;

/** Whether role `a` runs definer `d` (an SQL condition), another role's, when `a` is no superuser. */
const RUNS = (a: string, d: string): string => `${d}.owner <> ${a}
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles s WHERE s.oid = ${a} AND s.rolsuper)
    AND CASE WHEN ${d}.tgrelid = 0 THEN pg_catalog.has_function_privilege(${a}, ${d}.oid, 'EXECUTE')
      ELSE pg_catalog.has_table_privilege(${a}, ${d}.tgrelid, 'INSERT,UPDATE,DELETE,TRUNCATE') OR pg_catalog.has_any_column_privilege(${a}, ${d}.tgrelid, 'INSERT,UPDATE') END`;

/**
 * The roles this session can act as, each with how: its own role and every role it is a member of
 * (NOINHERIT too: `set_config('role', ...)` in a select list gives the rest of that one statement
 * the role's privileges, as query_to_xml's query text showed; and a function `SET role` runs as it),
 * then, to any depth, the owner of every SECURITY DEFINER function one of them may execute (the
 * function runs as its owner, whatever its body) or whose trigger a write it may make fires (no
 * EXECUTE is asked of the writer). A SECURITY DEFINER function cannot SET ROLE. A
 * superuser holds what any other role does, so none is followed from one (every role is its member).
 * Why shared: store-reach.ts and outbound-reach.ts judge both as these roles. Columns: oid, via ('' the
 * session's own role, 'member', the SECURITY DEFINER function's signature, or 'trigger ' and it).
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
    : o.via.startsWith('trigger ') ? `the owner of SECURITY DEFINER trigger function ${o.via.slice(8)}, which a write it may make fires`
    : `the owner of SECURITY DEFINER ${o.via}, which it may execute`;
  return `as role ${o.actor}, ${how}`;
}

