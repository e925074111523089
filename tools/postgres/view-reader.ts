/**
 * The catalog queries behind ViewCatalog (view-catalog.ts, which caches their answers): each
 * relation's kind, columns and inheritance family, view definitions read with pg_get_viewdef,
 * and the relations of the system schemas, with the rows decoded into what the cache keeps.
 */
import type pg from 'pg';
import { FOREIGN_TABLE_KIND } from './foreign-tables.js';
import type { Caller } from './pool-shares.js';
import type { RelationFamily } from './inheritance.js';
import { type ViewDefinition, viewRefusal } from './view-lineage.js';
import { keyChecks, keyChecksSql } from './key-checks.js';
import { RUNS_ORDER, runsSql } from './write-runs.js';
import { GENERATED_READS_SQL, generatedReads } from './generated-columns.js';
import { viewPrintSql } from './view-prints.js';
import { relationPrintSql } from './relation-prints.js';

/** A relation as the catalog describes it: its pg_class.relkind and its inheritance family. */
export interface CatalogRelation extends RelationFamily {
  kind: string;
  /** Its print as read with this answer (relation-prints.ts): a masked read compares it with the catalog's after its statement. */
  print?: string;
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
  /** The other tables a change of its rows reads to check foreign keys (widened-relations.ts). */
  keyChecks?: readonly KeyCheck[];
  /** Enabled user triggers a change of its rows may fire, and the functions the expressions it evaluates call (write-reach.ts). */
  triggers?: readonly Trigger[];
}

/**
 * A foreign key check a change of the relation's (or a descendant's) rows runs, reading `reads`
 * (whether it fails says what `reads` holds): a key of the relation checks that the referenced
 * key exists on an INSERT and on an UPDATE setting `columns`; a NO ACTION or RESTRICT key of
 * another table referencing it checks that no row of that table still references one removed,
 * on a DELETE and (NO ACTION or RESTRICT on update) on an UPDATE setting `columns`.
 */
export interface KeyCheck {
  /** The table the check reads (schema.name). */
  reads: string;
  /** The constraint's name (pg_constraint.conname). */
  key: string;
  /** The changes that run it (write-runs.ts bits: INSERT, DELETE, UPDATE). */
  events: number;
  /** The columns of the written relation an UPDATE must set to run it (the key's columns on its side). */
  columns: readonly string[];
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
  /** The changes that run it (write-runs.ts: INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, as pg_trigger.tgtype); absent: every change. */
  events?: number;
  /**
   * An expression an UPDATE evaluates only when it sets this column of `on` (a column's or its
   * domain's DEFAULT, a domain's CHECK); on a trigger, the column of `on` its trusted function
   * sets (moddatetime's argument: write-runs.ts), which it writes whatever the statement sets.
   */
  column?: string;
  /** Its function is a well-known extension's, which reads and writes no table (write-runs.ts). */
  trusted?: true;
}

/** What the catalog is asked (PgViewReader in production), each query on a session of `caller`'s share (connector.ts). */
export interface ViewReader {
  /** Kind and family of each named relation the catalog knows (unknown names are left out). */
  relations(names: readonly string[], caller?: Caller): Promise<Map<string, CatalogRelation>>;
  /** Definitions and column names of the named views (views the catalog no longer has are left out). */
  viewDefinitions(names: readonly string[], caller?: Caller): Promise<ViewDefinition[]>;
  /** schema.name of every relation in pg_catalog and information_schema. */
  systemRelations(caller?: Caller): Promise<string[]>;
  /** schema.name of every relation of the database (what a trigger's function could touch: write-reach.ts). */
  allRelations?(caller?: Caller): Promise<string[]>;
}

/** Run `fn` on a session of the connection's read-only pool counted against `caller`'s share; released after (destroyed after an error). */
export type LookupSession = <T>(fn: (client: pg.PoolClient) => Promise<T>, caller?: Caller) => Promise<T>;

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
 * and what a change of its rows runs: rules, cascading foreign keys (`fk`), foreign key checks
 * (`key_checks`: key-checks.ts), and the triggers and
 * the functions the expressions a write evaluates call, with the events each runs on and whether
 * deny rules trust the function (`runs`: write-runs.ts), and the generated columns of the
 * family with the columns their expressions read (`gen`: generated-columns.ts).
 * All in the one query a statement's relations already cost (read-only statements included, at
 * no extra round trip: the answer is cached for the writes that need it).
 */
const RELATIONS_SQL = `SELECT q.name, c.relkind::text AS relkind, c.relrowsecurity AS rowsecurity, ${relationPrintSql('c')} AS print,
  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
  f.ancestors, f.descendants, f.foreign_descendants, f.kin, f.kin_via, f.side_effects, f.cascades, f.cascade_actions,
  f.key_checks, f.trigger_names, f.trigger_relations, f.trigger_functions, f.trigger_expressions, f.trigger_events, f.trigger_columns, f.trigger_trusted,
  f.gen_relations, f.gen_columns, f.gen_reads
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
    ${runsSql(nameOf)},
    ${GENERATED_READS_SQL}
  SELECT ARRAY(SELECT ${nameOf('up.oid')} FROM up) AS ancestors,
    ARRAY(SELECT ${nameOf('down.oid')} FROM down) AS descendants,
    ARRAY(SELECT ${nameOf('down.oid')} FROM down JOIN pg_catalog.pg_class dc ON dc.oid = down.oid WHERE dc.relkind = '${FOREIGN_TABLE_KIND}') AS foreign_descendants,
    ARRAY(SELECT ${nameOf('kin.oid')} FROM kin ORDER BY kin.oid) AS kin,
    ARRAY(SELECT ${nameOf('kin.via')} FROM kin ORDER BY kin.oid) AS kin_via,
    ARRAY(SELECT 'rule ' || r.rulename::text || ' on ' || ${nameOf('r.ev_class')} FROM pg_catalog.pg_rewrite r
        WHERE r.ev_type <> '1' AND (r.ev_class = c.oid OR r.ev_class IN (SELECT oid FROM down))) AS side_effects,
    ARRAY(SELECT ${nameOf('fk.oid')} FROM fk ORDER BY fk.oid) AS cascades,
    ARRAY(SELECT fk.actions FROM fk ORDER BY fk.oid) AS cascade_actions,
    ${keyChecksSql(nameOf)} AS key_checks,
    ARRAY(SELECT t.tgname::text FROM runs t ${RUNS_ORDER}) AS trigger_names,
    ARRAY(SELECT ${nameOf('t.tgrelid')} FROM runs t ${RUNS_ORDER}) AS trigger_relations,
    ARRAY(SELECT t.fn FROM runs t ${RUNS_ORDER}) AS trigger_functions,
    ARRAY(SELECT t.expr FROM runs t ${RUNS_ORDER}) AS trigger_expressions,
    ARRAY(SELECT t.events FROM runs t ${RUNS_ORDER}) AS trigger_events,
    ARRAY(SELECT t.col FROM runs t ${RUNS_ORDER}) AS trigger_columns,
    ARRAY(SELECT t.trusted FROM runs t ${RUNS_ORDER}) AS trigger_trusted,
    ARRAY(SELECT ${nameOf('g.rel')} FROM gen g ORDER BY g.rel, g.col, g.rd) AS gen_relations,
    ARRAY(SELECT g.col FROM gen g ORDER BY g.rel, g.col, g.rd) AS gen_columns,
    ARRAY(SELECT g.rd FROM gen g ORDER BY g.rel, g.col, g.rd) AS gen_reads
) f`;

type RelationRow = {
  name: string;
  relkind: string;
  print: string;
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
  key_checks: KeyCheck[];
  trigger_names: string[];
  trigger_relations: string[];
  trigger_functions: string[];
  trigger_expressions: boolean[];
  trigger_events: number[];
  trigger_columns: (string | null)[];
  trigger_trusted: boolean[];
  gen_relations: string[];
  gen_columns: string[];
  gen_reads: string[];
};

/** A row of RELATIONS_SQL as the relation it describes (fail closed: kin and their vias must line up). */
function catalogRelation(row: RelationRow): CatalogRelation {
  if (row.kin.length !== row.kin_via.length) throw new Error(`catalog answer for ${row.name}: ${row.kin.length} other ancestors, ${row.kin_via.length} descendants they come through`);
  const triggers = row.trigger_names.length;
  if (row.cascades.length !== row.cascade_actions.length || row.trigger_relations.length !== triggers || row.trigger_functions.length !== triggers || row.trigger_expressions.length !== triggers ||
    row.trigger_events.length !== triggers || row.trigger_columns.length !== triggers || row.trigger_trusted.length !== triggers) {
    throw new Error(`catalog answer for ${row.name}: cascades or triggers do not line up`);
  }
  return {
    kind: row.relkind,
    print: row.print,
    rowSecurity: row.rowsecurity,
    columns: row.columns,
    ancestors: row.ancestors,
    descendants: row.descendants,
    descendantsAncestors: row.kin.map((relation, i) => ({ relation, via: row.kin_via[i]! })),
    foreignDescendants: row.foreign_descendants,
    sideEffects: row.side_effects,
    cascades: row.cascades,
    cascadeActions: row.cascade_actions,
    keyChecks: keyChecks(row),
    generated: generatedReads(row),
    triggers: row.trigger_names.map((name, i) => {
      const column = row.trigger_columns[i];
      return {
        name, on: row.trigger_relations[i]!, fn: row.trigger_functions[i]!, events: row.trigger_events[i]!,
        ...(row.trigger_expressions[i] ? { expression: true as const } : {}), ...(column !== null && column !== undefined ? { column } : {}), ...(row.trigger_trusted[i] ? { trusted: true as const } : {}),
      };
    }),
  };
}

/**
 * Each view's definition, columns and print (view-prints.ts). The print's rule row is read with
 * the statement's snapshot, pg_get_viewdef with a catalog snapshot never older: when they
 * disagree the print is the older one, and the check after the statement refuses (fail closed).
 */
const VIEWS_SQL = `SELECT q.name, pg_catalog.pg_get_viewdef(c.oid) AS definition, ${viewPrintSql('c')} AS print,
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

/** Names as the catalog queries take them: schema.name, schema, name arrays. */
export function byParts(names: readonly string[]): [string[], string[], string[]] {
  const parts = names.map(splitRelation);
  return [[...names], parts.map((p) => p[0]), parts.map((p) => p[1])];
}

/** The catalog queries, each on a session of the connection's read-only pool (`session`: connector.ts, failures to connect coded). */
export function pgViewReader(session: LookupSession): ViewReader {
  return {
    async relations(names, caller) {
      const r = await session((c) => c.query({ text: RELATIONS_SQL, values: byParts(names) }), caller);
      return new Map((r.rows as RelationRow[]).map((row) => [row.name, catalogRelation(row)]));
    },
    async systemRelations(caller) {
      const r = await session((c) => c.query(SYSTEM_SQL), caller);
      return (r.rows as { name: string }[]).map((row) => row.name);
    },
    async allRelations(caller) {
      const r = await session((c) => c.query(ALL_SQL), caller);
      return (r.rows as { name: string }[]).map((row) => row.name);
    },
    async viewDefinitions(names, caller) {
      // pg_get_viewdef qualifies a table unless the search_path finds it by its bare name: with
      // only pg_catalog (and pg_temp last) on it, every other table is printed schema-qualified,
      // so the analyser never reads an unqualified `pg_foo` in public as pg_catalog.pg_foo.
      return session(async (client) => {
        await client.query('BEGIN READ ONLY; SET LOCAL search_path = pg_catalog, pg_temp');
        const r = await client.query({ text: VIEWS_SQL, values: byParts(names) });
        await client.query('COMMIT');
        return r.rows as ViewDefinition[];
      }, caller);
    },
  };
}
