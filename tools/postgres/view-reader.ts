/**
 * The catalog queries behind ViewCatalog (view-catalog.ts, which caches their answers): each
 * relation's kind, columns and inheritance family, view definitions read with pg_get_viewdef,
 * and the relations of the system schemas, with the rows decoded into what the cache keeps.
 */
import type pg from 'pg';
import { FOREIGN_TABLE_KIND } from './foreign-tables.js';
import { withSession } from './pool-session.js';
import type { RelationFamily } from './inheritance.js';
import { type ViewDefinition, viewRefusal } from './view-lineage.js';

/** A relation as the catalog describes it: its pg_class.relkind and its inheritance family. */
export interface CatalogRelation extends RelationFamily {
  kind: string;
  /** pg_class.relrowsecurity: EXPLAIN of a statement reading it prints its policies' conditions (statistics-values.ts). */
  rowSecurity?: boolean;
  /**
   * What a change of its rows (or its descendants') runs that its facts do not name: non-SELECT
   * rules (their actions are statements deny rules do not see), in words. Triggers are listed
   * apart (`triggers`): their functions are judged as functions the statement calls (write-reach.ts).
   */
  sideEffects?: readonly string[];
  /** Tables whose foreign keys cascade (CASCADE, SET NULL, SET DEFAULT) a delete or update of its rows into theirs. */
  cascades?: readonly string[];
  /** For each of `cascades`, the actions that reach it, in words ("ON DELETE CASCADE"). */
  cascadeActions?: readonly string[];
  /** Enabled user triggers a change of its rows may fire, and the functions the expressions it evaluates call (write-reach.ts). */
  triggers?: readonly Trigger[];
}

/**
 * An enabled user trigger (pg_trigger: not internal, tgenabled other than 'D', any event and
 * timing, INSTEAD OF on a view included) on the relation, on one of its descendants, or on a
 * partitioned ancestor (whose row triggers are cloned onto its partitions).
 */
export interface Trigger {
  name: string;
  /** The relation it is on (schema.name). */
  on: string;
  /** Its function, spelled as facts spell functions (pg_catalog's bare). */
  fn: string;
  /**
   * Not a trigger but an expression a write evaluates that calls `fn` (directly or through an
   * operator): a table's CHECK (or exclusion constraint), a column's DEFAULT, a generated column,
   * an index's expression or predicate, a partition key, a domain's CHECK or DEFAULT; `name`
   * then says which, in words ("column public.t.c's DEFAULT"). Judged as a trigger's function
   * (write-reach.ts).
   */
  expression?: true;
}

/** What the catalog is asked (PgViewReader in production). */
export interface ViewReader {
  /** Kind and family of each named relation the catalog knows (unknown names are left out). */
  relations(names: readonly string[]): Promise<Map<string, CatalogRelation>>;
  /** Definitions and column names of the named views (views the catalog no longer has are left out). */
  viewDefinitions(names: readonly string[]): Promise<ViewDefinition[]>;
  /** schema.name of every relation in pg_catalog and information_schema. */
  systemRelations(): Promise<string[]>;
  /** schema.name of every relation of the database (what a trigger's function could touch: write-reach.ts). */
  allRelations?(): Promise<string[]>;
}

/** Split schema.name (analysis refuses a '.' inside either part, so the first '.' separates them). */
function splitRelation(name: string): [string, string] {
  const dot = name.indexOf('.');
  if (dot <= 0 || name.indexOf('.', dot + 1) >= 0) throw viewRefusal(name, 'its name cannot be split into schema and relation');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** schema.name of the relation whose oid is `oid` (an expression). */
const nameOf = (oid: string) => `(SELECT fn.nspname::text || '.' || fc.relname::text FROM pg_catalog.pg_class fc
  JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = ${oid})`;

/** The words for a foreign key's ON DELETE/UPDATE action `column` when it changes the referencing rows (CASCADE, SET NULL, SET DEFAULT), else NULL. */
const action = (column: string, event: string) =>
  `CASE k.${column} WHEN 'c' THEN 'ON ${event} CASCADE' WHEN 'n' THEN 'ON ${event} SET NULL' WHEN 'd' THEN 'ON ${event} SET DEFAULT' END`;

/**
 * Kind, own columns and family, walking pg_inherits to any depth: ancestors (`up`), descendants
 * (`down`), and the other ancestors of the descendants (`kin`, multiple inheritance: a parent of
 * a descendant that is neither the relation nor one of its descendants, and that parent's
 * ancestors, less the relation's own ancestors), each with one descendant it is reached from;
 * and what a change of its rows runs: rules, cascading foreign keys (`fk`), triggers (`tg`) and
 * the functions the expressions a write evaluates call (`dc`, from pg_depend, an operator's
 * function included; built-in ones are pinned, so never listed): the CHECKs and exclusion
 * constraints, DEFAULTs, generated columns and index expressions and predicates of the relation
 * and its descendants (`fam`), the partition key expressions of those and of its ancestors,
 * and the CHECKs and DEFAULTs of the domains their columns are of (`doms`: through domains over
 * domains, arrays and composite types' attributes), listed with
 * the triggers as `expression` entries named in words (`exprs`). Joined from `fam` so that each
 * catalog is read through its index on the relation.
 * All in the one query a statement's relations already cost (read-only statements included, at
 * no extra round trip: the answer is cached for the writes that need it).
 */
const RELATIONS_SQL = `SELECT q.name, c.relkind::text AS relkind, c.relrowsecurity AS rowsecurity,
  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
  f.ancestors, f.descendants, f.foreign_descendants, f.kin, f.kin_via, f.side_effects, f.cascades, f.cascade_actions,
  f.trigger_names, f.trigger_relations, f.trigger_functions, f.trigger_expressions
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel
CROSS JOIN LATERAL (
  WITH RECURSIVE
    up(oid) AS (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
      UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.oid),
    down(oid) AS (SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid
      UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN down ON i.inhparent = down.oid),
    kin_up(oid, via) AS (SELECT i.inhparent, i.inhrelid FROM pg_catalog.pg_inherits i JOIN down ON i.inhrelid = down.oid
        WHERE i.inhparent <> c.oid AND i.inhparent NOT IN (SELECT oid FROM down)
      UNION SELECT i.inhparent, k.via FROM pg_catalog.pg_inherits i JOIN kin_up k ON i.inhrelid = k.oid),
    kin(oid, via) AS (SELECT DISTINCT ON (k.oid) k.oid, k.via FROM kin_up k WHERE k.oid NOT IN (SELECT oid FROM up) ORDER BY k.oid, k.via),
    fk(oid, actions) AS (SELECT k.conrelid, string_agg(DISTINCT a.action, ' / ' ORDER BY a.action) FROM pg_catalog.pg_constraint k
        CROSS JOIN LATERAL (VALUES (${action('confdeltype', 'DELETE')}), (${action('confupdtype', 'UPDATE')})) a(action)
        WHERE k.contype = 'f' AND a.action IS NOT NULL AND (k.confrelid = c.oid OR k.confrelid IN (SELECT oid FROM down))
        GROUP BY k.conrelid),
    tg(oid, tgname, tgrelid, fn, expr) AS (SELECT t.oid, t.tgname::text, t.tgrelid,
          CASE WHEN pn.nspname = 'pg_catalog' THEN p.proname::text ELSE pn.nspname::text || '.' || p.proname::text END, false
        FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
        WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND (t.tgrelid = c.oid OR t.tgrelid IN (SELECT oid FROM down)
          OR t.tgrelid IN (SELECT up.oid FROM up JOIN pg_catalog.pg_class uc ON uc.oid = up.oid WHERE uc.relkind = 'p'))),
    fam(oid) AS (SELECT c.oid UNION ALL SELECT oid FROM down),
    doms(oid) AS (SELECT a.atttypid FROM fam JOIN pg_catalog.pg_attribute a ON a.attrelid = fam.oid WHERE a.attnum > 0 AND NOT a.attisdropped
      UNION SELECT v.x FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid
        LEFT JOIN pg_catalog.pg_attribute ca ON dt.typrelid <> 0 AND ca.attrelid = dt.typrelid AND ca.attnum > 0 AND NOT ca.attisdropped
        CROSS JOIN LATERAL (VALUES (dt.typbasetype), (dt.typelem), (ca.atttypid)) v(x) WHERE v.x <> 0),
    exprs(classid, objid, name, relid) AS (
      SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, 'table ' || ${nameOf('k.conrelid')} || '''s ' || CASE k.contype WHEN 'c' THEN 'CHECK ' ELSE 'constraint ' END || k.conname::text, k.conrelid
        FROM fam JOIN pg_catalog.pg_constraint k ON k.conrelid = fam.oid WHERE k.contype IN ('c', 'x')
      UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, ad.oid, CASE WHEN aa.attgenerated <> '' THEN 'generated column ' || ${nameOf('ad.adrelid')} || '.' || aa.attname::text
          ELSE 'column ' || ${nameOf('ad.adrelid')} || '.' || aa.attname::text || '''s DEFAULT' END, ad.adrelid
        FROM fam JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = fam.oid JOIN pg_catalog.pg_attribute aa ON aa.attrelid = ad.adrelid AND aa.attnum = ad.adnum
      UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, x.indexrelid, 'index ' || ${nameOf('x.indexrelid')} || '''s '
          || CASE WHEN x.indpred IS NULL THEN 'expression' WHEN x.indexprs IS NULL THEN 'predicate' ELSE 'expression or predicate' END, x.indrelid
        FROM fam JOIN pg_catalog.pg_index x ON x.indrelid = fam.oid WHERE x.indexprs IS NOT NULL OR x.indpred IS NOT NULL
      UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, pt.partrelid, 'partition key of ' || ${nameOf('pt.partrelid')}, pt.partrelid
        FROM pg_catalog.pg_partitioned_table pt WHERE pt.partexprs IS NOT NULL AND (pt.partrelid IN (SELECT oid FROM fam) OR pt.partrelid IN (SELECT oid FROM up))
      UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, 'domain ' || dn.nspname::text || '.' || dt.typname::text || '''s CHECK ' || k.conname::text || ' on ' || q.name, c.oid
        FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid AND dt.typtype = 'd' JOIN pg_catalog.pg_namespace dn ON dn.oid = dt.typnamespace
        JOIN pg_catalog.pg_constraint k ON k.contypid = dt.oid AND k.contype = 'c'
      UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, dt.oid, 'domain ' || dn.nspname::text || '.' || dt.typname::text || '''s DEFAULT on ' || q.name, c.oid
        FROM doms d JOIN pg_catalog.pg_type dt ON dt.oid = d.oid AND dt.typtype = 'd' AND dt.typdefaultbin IS NOT NULL
        JOIN pg_catalog.pg_namespace dn ON dn.oid = dt.typnamespace),
    dc(oid, tgname, tgrelid, fn, expr) AS (SELECT e.objid, e.name, e.relid,
          CASE WHEN pn.nspname = 'pg_catalog' THEN p.proname::text ELSE pn.nspname::text || '.' || p.proname::text END, true
        FROM exprs e CROSS JOIN LATERAL (SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d WHERE d.classid = e.classid AND d.objid = e.objid OFFSET 0) dp
        JOIN pg_catalog.pg_proc p ON p.oid = CASE dp.refclassid WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN dp.refobjid
            WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT o.oprcode::oid FROM pg_catalog.pg_operator o WHERE o.oid = dp.refobjid) END
        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
        WHERE e.classid <> 'pg_catalog.pg_type'::pg_catalog.regclass OR p.oid NOT IN (SELECT y.f::oid FROM pg_catalog.pg_type yt
          CROSS JOIN LATERAL (VALUES (yt.typinput), (yt.typoutput), (yt.typreceive), (yt.typsend), (yt.typmodin), (yt.typmodout), (yt.typanalyze)) y(f) WHERE yt.oid = e.objid)),
    runs(oid, tgname, tgrelid, fn, expr) AS (SELECT * FROM tg UNION SELECT * FROM dc)
  SELECT ARRAY(SELECT ${nameOf('up.oid')} FROM up) AS ancestors,
    ARRAY(SELECT ${nameOf('down.oid')} FROM down) AS descendants,
    ARRAY(SELECT ${nameOf('down.oid')} FROM down JOIN pg_catalog.pg_class dc ON dc.oid = down.oid WHERE dc.relkind = '${FOREIGN_TABLE_KIND}') AS foreign_descendants,
    ARRAY(SELECT ${nameOf('kin.oid')} FROM kin ORDER BY kin.oid) AS kin,
    ARRAY(SELECT ${nameOf('kin.via')} FROM kin ORDER BY kin.oid) AS kin_via,
    ARRAY(SELECT 'rule ' || r.rulename::text || ' on ' || ${nameOf('r.ev_class')} FROM pg_catalog.pg_rewrite r
        WHERE r.ev_type <> '1' AND (r.ev_class = c.oid OR r.ev_class IN (SELECT oid FROM down))) AS side_effects,
    ARRAY(SELECT ${nameOf('fk.oid')} FROM fk ORDER BY fk.oid) AS cascades,
    ARRAY(SELECT fk.actions FROM fk ORDER BY fk.oid) AS cascade_actions,
    ARRAY(SELECT t.tgname::text FROM runs t ORDER BY t.oid, t.tgname, t.fn, t.expr) AS trigger_names,
    ARRAY(SELECT ${nameOf('t.tgrelid')} FROM runs t ORDER BY t.oid, t.tgname, t.fn, t.expr) AS trigger_relations,
    ARRAY(SELECT t.fn FROM runs t ORDER BY t.oid, t.tgname, t.fn, t.expr) AS trigger_functions,
    ARRAY(SELECT t.expr FROM runs t ORDER BY t.oid, t.tgname, t.fn, t.expr) AS trigger_expressions
) f`;

type RelationRow = {
  name: string;
  relkind: string;
  rowsecurity: boolean;
  columns: string[];
  ancestors: string[];
  descendants: string[];
  foreign_descendants: string[];
  kin: string[];
  kin_via: string[];
  side_effects: string[];
  cascades: string[];
  cascade_actions: string[];
  trigger_names: string[];
  trigger_relations: string[];
  trigger_functions: string[];
  trigger_expressions: boolean[];
};

/** A row of RELATIONS_SQL as the relation it describes (fail closed: kin and their vias must line up). */
function catalogRelation(row: RelationRow): CatalogRelation {
  if (row.kin.length !== row.kin_via.length) throw new Error(`catalog answer for ${row.name}: ${row.kin.length} other ancestors, ${row.kin_via.length} descendants they come through`);
  const triggers = row.trigger_names.length;
  if (row.cascades.length !== row.cascade_actions.length || row.trigger_relations.length !== triggers || row.trigger_functions.length !== triggers || row.trigger_expressions.length !== triggers) {
    throw new Error(`catalog answer for ${row.name}: cascades or triggers do not line up`);
  }
  return {
    kind: row.relkind,
    rowSecurity: row.rowsecurity,
    columns: row.columns,
    ancestors: row.ancestors,
    descendants: row.descendants,
    descendantsAncestors: row.kin.map((relation, i) => ({ relation, via: row.kin_via[i]! })),
    foreignDescendants: row.foreign_descendants,
    sideEffects: row.side_effects,
    cascades: row.cascades,
    cascadeActions: row.cascade_actions,
    triggers: row.trigger_names.map((name, i) => ({ name, on: row.trigger_relations[i]!, fn: row.trigger_functions[i]!, ...(row.trigger_expressions[i] ? { expression: true } : {}) })),
  };
}

const VIEWS_SQL = `SELECT q.name, pg_catalog.pg_get_viewdef(c.oid) AS definition,
  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel
WHERE c.relkind IN ('v', 'm')`;

/** Relations of the system schemas (a system view reaches them: widened-relations.ts). */
const SYSTEM_SQL = `SELECT n.nspname::text || '.' || c.relname::text AS name FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`;

/** Every relation of the database, system schemas included. */
const ALL_SQL = `SELECT n.nspname::text || '.' || c.relname::text AS name FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')`;

function byParts(names: readonly string[]): [string[], string[], string[]] {
  const parts = names.map(splitRelation);
  return [[...names], parts.map((p) => p[0]), parts.map((p) => p[1])];
}

/** The catalog queries, each on a session of the connection's read-only pool (`session`: pool-session.ts, failures to connect coded). */
export function pgViewReader(session: () => Promise<pg.PoolClient>): ViewReader {
  return {
    async relations(names) {
      const r = await withSession(session, (c) => c.query({ text: RELATIONS_SQL, values: byParts(names) }));
      return new Map((r.rows as RelationRow[]).map((row) => [row.name, catalogRelation(row)]));
    },
    async systemRelations() {
      const r = await withSession(session, (c) => c.query(SYSTEM_SQL));
      return (r.rows as { name: string }[]).map((row) => row.name);
    },
    async allRelations() {
      const r = await withSession(session, (c) => c.query(ALL_SQL));
      return (r.rows as { name: string }[]).map((row) => row.name);
    },
    async viewDefinitions(names) {
      // pg_get_viewdef qualifies a table unless the search_path finds it by its bare name: with
      // only pg_catalog (and pg_temp last) on it, every other table is printed schema-qualified,
      // so the analyser never reads an unqualified `pg_foo` in public as pg_catalog.pg_foo.
      return withSession(session, async (client) => {
        await client.query('BEGIN READ ONLY; SET LOCAL search_path = pg_catalog, pg_temp');
        const r = await client.query({ text: VIEWS_SQL, values: byParts(names) });
        await client.query('COMMIT');
        return r.rows as ViewDefinition[];
      });
    },
  };
}
