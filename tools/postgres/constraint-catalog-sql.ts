/**
 * The constraint catalog's one query (constraint-catalog.ts): of the relations asked, each one's
 * kind, the CHECK and foreign key constraints and computed-key indexes of its family, and what else
 * an UPDATE of it computes from a row, each as a TableConstraint in JSON.
 */
import { BODY_CAP, FUNCTIONS, OPERATORS } from './trigger-bodies.js';
import { TYPES as VARIABLE_TYPES } from './plpgsql-declare.js';
import { triggerFactsSql } from './trigger-facts.js';

/**
 * The functions a stored expression (`tree`, pg_node_tree as text) calls, directly or as an
 * operator's: read from the tree, since dependencies on built-in objects are not recorded.
 */
const procsOf = (tree: string) => `SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid IN (
        SELECT m[1]::pg_catalog.oid FROM pg_catalog.regexp_matches(${tree}, ':(?:funcid|opfuncid) ([0-9]+)', 'g') AS m
        UNION SELECT o.oprcode FROM pg_catalog.regexp_matches(${tree}, ':opno ([0-9]+)', 'g') AS m
          JOIN pg_catalog.pg_operator o ON o.oid = m[1]::pg_catalog.oid)`;

/**
 * Whether a stored expression may answer otherwise with nothing written: it calls a function that
 * is not IMMUTABLE, or holds a node whose functions the tree does not name (CURRENT_USER and
 * its kind, a conversion through text, a row comparison, XML, a sequence, a domain's CHECK).
 */
const MUTABLE = (tree: string) => `(EXISTS (${procsOf(tree)} AND p.provolatile <> 'i')
        OR ${tree} ~ '[{](SQLVALUEFUNCTION|COERCEVIAIO|ARRAYCOERCEEXPR|ROWCOMPARE|XMLEXPR|NEXTVALUEEXPR|COERCETODOMAIN) ')`;

/** Whether a stored expression calls a function outside pg_catalog that no extension owns. */
const OPAQUE = (tree: string) => `EXISTS (${procsOf(tree)} AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND e.objid = p.oid AND e.deptype = 'e'))`;

const tableName = (oid: string) => `(SELECT tn.nspname::text || '.' || tc.relname::text FROM pg_catalog.pg_class tc
        JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace WHERE tc.oid = ${oid})`;

const attnames = (rel: string, nums: string) =>
  `ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${rel} AND a.attnum = ANY (${nums}) AND a.attnum > 0 ORDER BY a.attnum)`;

/** The columns a stored expression of one relation reads (Var nodes; 0 is a whole row). */
const VARS = (tree: string) =>
  `ARRAY(SELECT DISTINCT m[1]::pg_catalog.int2 FROM pg_catalog.regexp_matches(${tree}, ':varattno ([0-9]+)', 'g') AS m)`;

/** A function outside pg_catalog that no extension owns (a trigger's). */
const USER_PROC = (oid: string) => `EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid = ${oid}
        AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
          WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid AND e.deptype = 'e'))`;

/** One computed entry (see TableConstraint) as JSON; `extra`: more pairs. */
const entry = (rel: string, name: string, type: string, columns: string, wholeRow: string, mutable: string, opaque: string, validated = 'true', events = `''`, extra = '') =>
  `json_build_object('table', ${tableName(rel)}, 'name', ${name}, 'type', ${type}, 'validated', ${validated},
      'columns', ${columns}, 'wholeRow', ${wholeRow}, 'refTables', ARRAY[]::text[], 'refColumns', ARRAY[]::text[],
      'mutable', ${mutable}, 'opaque', ${opaque}, 'events', ${events}${extra})`;

/** A trigger's facts for trigger-bodies.ts (TriggerFacts): trigger-facts.ts. */
const TRIGGER_FACTS = triggerFactsSql({ attnames, vars: VARS, mutable: MUTABLE, opaque: OPAQUE }, BODY_CAP, FUNCTIONS, OPERATORS, VARIABLE_TYPES);

/** A trigger's row events (TableConstraint.events), from pg_trigger.tgtype (INSERT 4, DELETE 8, UPDATE 16). */
const TRIGGER_EVENTS = `(CASE WHEN (t.tgtype::int & 16) <> 0 THEN 'u' ELSE '' END || CASE WHEN (t.tgtype::int & 8) <> 0 THEN 'd' ELSE '' END
      || CASE WHEN (t.tgtype::int & 4) <> 0 THEN 'i' ELSE '' END || CASE WHEN (t.tgtype::int & 7) = 7 THEN 'b' ELSE '' END
      || CASE WHEN (t.tgtype::int & 12) <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_class tp WHERE tp.oid = t.tgrelid AND tp.relispartition) THEN 'm' ELSE '' END)`;

/**
 * The key columns an ON DELETE SET NULL or SET DEFAULT action of foreign key `fk` writes:
 * PostgreSQL 15's column list (`SET NULL (pid)`, pg_constraint.confdelsetcols) when it has one,
 * else every key column. Read through to_jsonb, so a server before 15 (no such column) answers too.
 */
const SET_COLUMNS = `(CASE WHEN pg_catalog.jsonb_typeof(pg_catalog.to_jsonb(fk) -> 'confdelsetcols') = 'array'
        AND pg_catalog.jsonb_array_length(pg_catalog.to_jsonb(fk) -> 'confdelsetcols') > 0
      THEN ARRAY(SELECT x::pg_catalog.int2 FROM pg_catalog.jsonb_array_elements_text(pg_catalog.to_jsonb(fk) -> 'confdelsetcols') AS x)
      ELSE fk.conkey END)`;

/** The type a type `oid` is at last, through domains over domains (the deepest base read). */
const BASE = (oid: string) => `(WITH RECURSIVE d(oid, n) AS (SELECT ${oid}, 0 UNION ALL SELECT t.typbasetype, d.n + 1 FROM d
        JOIN pg_catalog.pg_type t ON t.oid = d.oid WHERE t.typtype = 'd' AND d.n < 32) SELECT d.oid FROM d ORDER BY d.n DESC LIMIT 1)`;

/** Whether type `oid` is char(n) (bpchar) or a domain (whose base may be): an array of it pads each element. */
const PADS = (oid: string) => `EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.oid = ${oid} AND (e.oid = 'pg_catalog.bpchar'::pg_catalog.regtype OR e.typtype = 'd'))`;

/**
 * Of a size-limited index `zx` (entry `z`), its columns of type char(n), as a JSON object of n by
 * name (TableConstraint.padded): bpchar with a length, directly or through one domain (the
 * column's typmod, else the domain's); 0, padding not read, for an array of bpchar or of a
 * domain, or a domain over a domain over char(n) or over such an array. bpchar without a length pads nothing.
 */
const PADDED = `(SELECT COALESCE(pg_catalog.json_object_agg(a.attname::text, p.n ORDER BY a.attnum), '{}'::json) FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_catalog.pg_type bt ON bt.oid = ty.typbasetype
        CROSS JOIN LATERAL (SELECT CASE
          WHEN ty.oid = 'pg_catalog.bpchar'::pg_catalog.regtype THEN a.atttypmod - 4
          WHEN bt.oid = 'pg_catalog.bpchar'::pg_catalog.regtype THEN COALESCE(NULLIF(a.atttypmod, -1), ty.typtypmod) - 4
          WHEN bt.typtype = 'd' AND ${BASE('bt.oid')} = 'pg_catalog.bpchar'::pg_catalog.regtype OR ${PADS('ty.typelem')} OR ${PADS('bt.typelem')} THEN 0 END AS n) p
        WHERE a.attrelid = zx.indrelid AND a.attnum = ANY (zx.indkey::int2[]) AND a.attnum > 0 AND a.attlen < 0 AND p.n >= 0)`;

/** How many of index `zx`'s columns are keys, not INCLUDE columns (none before PostgreSQL 11, read through to_jsonb). */
const KEY_ATTS = `COALESCE((pg_catalog.to_jsonb(zx) ->> 'indnkeyatts')::pg_catalog.int4, zx.indnatts)`;

/**
 * Of a size-limited index `zx` (entry `z`, index `zc`), each column's type class by name
 * (TableConstraint.classes, sized-writes.ts AS_TEXT): `operator class` for a key column of an index
 * that is not a btree (its operator class may store another form: pg_trgm's GiST a trigram
 * array); else the name of its type through domains when that is in pg_catalog (`text`,
 * `jsonb`, `_int4` for int[]), `citext` for the citext extension's, `other` for any other.
 */
const CLASSES = `(SELECT COALESCE(pg_catalog.json_object_agg(a.attname::text, CASE
          WHEN zc.relam <> (SELECT am.oid FROM pg_catalog.pg_am am WHERE am.amname = 'btree') AND EXISTS (SELECT 1
            FROM pg_catalog.unnest(zx.indkey::pg_catalog.int2[]) WITH ORDINALITY AS u(k, o) WHERE u.k = a.attnum AND u.o <= ${KEY_ATTS}) THEN 'operator class'
          WHEN bt.typnamespace = 'pg_catalog'::pg_catalog.regnamespace THEN bt.typname::text
          WHEN bt.typname = 'citext' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend e JOIN pg_catalog.pg_extension x ON x.oid = e.refobjid
            WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND e.objid = bt.oid AND e.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
              AND e.deptype = 'e' AND x.extname = 'citext') THEN 'citext'
          ELSE 'other' END ORDER BY a.attnum), '{}'::json) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type bt ON bt.oid = ${BASE('a.atttypid')}
        WHERE a.attrelid = zx.indrelid AND a.attnum = ANY (zx.indkey::int2[]) AND a.attnum > 0 AND a.attlen < 0)`;

const GEN_TREE = `d.adbin::text`;
const KEY_TREE = `COALESCE(pt.partexprs::text, '')`;
const POL_TREE = `(COALESCE(pol.polqual::text, '') || ' ' || COALESCE(pol.polwithcheck::text, ''))`;

/**
 * The generated columns of the family, the partition keys of the family and its ancestors, the
 * triggers and rules of the family that fire on UPDATE or DELETE (enabled in any mode; a
 * partition's on INSERT too, which a moved row fires; a BEFORE INSERT row trigger, which an
 * upsert's EXCLUDED row shows), and the row-level
 * security policies of its tables that have them enabled (whatever roles they name: the owner
 * may be exempt, which is not judged). A policy with a subquery reads other relations: opaque.
 */
const COMPUTED_SQL = `COALESCE((SELECT json_agg(e.v) FROM (
    SELECT ${entry('ga.attrelid', 'ga.attname::text', `'g'`, attnames('ga.attrelid', VARS(GEN_TREE)), `${GEN_TREE} LIKE '%:varattno 0 %'`, MUTABLE(GEN_TREE), OPAQUE(GEN_TREE))} AS v
      FROM fam JOIN pg_catalog.pg_attribute ga ON ga.attrelid = fam.oid AND ga.attgenerated <> '' AND NOT ga.attisdropped
      JOIN pg_catalog.pg_attrdef d ON d.adrelid = ga.attrelid AND d.adnum = ga.attnum WHERE fam.root = r.name
    UNION ALL SELECT ${entry('pt.partrelid', `''`, `'k'`, attnames('pt.partrelid', `(pt.partattrs::pg_catalog.int2[] || ${VARS(KEY_TREE)})`), `${KEY_TREE} LIKE '%:varattno 0 %'`, MUTABLE(KEY_TREE), OPAQUE(KEY_TREE))}
      FROM pg_catalog.pg_partitioned_table pt
      WHERE pt.partrelid IN (SELECT oid FROM fam WHERE root = r.name UNION SELECT oid FROM anc WHERE root = r.name)
    UNION ALL SELECT ${entry('t.tgrelid', 't.tgname::text', `'t'`, attnames('t.tgrelid', 't.tgattr::pg_catalog.int2[]'), 'true', 'false', USER_PROC('t.tgfoid'), '(t.tgtype::int & 16) <> 0', TRIGGER_EVENTS, TRIGGER_FACTS)}
      FROM fam JOIN pg_catalog.pg_trigger t ON t.tgrelid = fam.oid
        LEFT JOIN pg_catalog.pg_proc tp ON tp.oid = t.tgfoid LEFT JOIN pg_catalog.pg_language tl ON tl.oid = tp.prolang
      WHERE fam.root = r.name AND NOT t.tgisinternal AND t.tgenabled <> 'D' AND ((t.tgtype::int & 24) <> 0 OR (t.tgtype::int & 7) = 7
        OR (t.tgtype::int & 12) <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_class tp WHERE tp.oid = t.tgrelid AND tp.relispartition))
    UNION ALL SELECT ${entry('w.ev_class', 'w.rulename::text', `'r'`, 'ARRAY[]::text[]', 'true', 'false', 'true', 'true',
      `CASE w.ev_type WHEN '2' THEN 'u' ELSE 'd' END`)}
      FROM fam JOIN pg_catalog.pg_rewrite w ON w.ev_class = fam.oid WHERE fam.root = r.name AND w.ev_type IN ('2', '4') AND w.ev_enabled <> 'D'
    UNION ALL SELECT ${entry('pol.polrelid', 'pol.polname::text', `'y'`, attnames('pol.polrelid', VARS(POL_TREE)), `${POL_TREE} LIKE '%:varattno 0 %'`, MUTABLE(POL_TREE),
      `(${OPAQUE(POL_TREE)} OR ${POL_TREE} LIKE '%{SUBLINK %')`, 'true', `CASE pol.polcmd WHEN '*' THEN 'ud' WHEN 'd' THEN 'd' ELSE 'u' END`)}
      FROM fam JOIN pg_catalog.pg_class pc ON pc.oid = fam.oid AND pc.relrowsecurity JOIN pg_catalog.pg_policy pol ON pol.polrelid = pc.oid
      WHERE fam.root = r.name AND pol.polcmd IN ('*', 'w', 'r', 'd')
    UNION ALL SELECT ${entry('fk.conrelid', 'fk.conname::text', `'a'`, attnames('fk.conrelid', SET_COLUMNS), 'false', 'false', 'false', 'true',
      `CASE fk.confdeltype WHEN 'c' THEN 'D' WHEN 'n' THEN 'N' ELSE 'S' END`)}
      FROM fam JOIN pg_catalog.pg_constraint fk ON fk.confrelid = fam.oid AND fk.contype = 'f'
      WHERE fam.root = r.name AND fk.confdeltype IN ('c', 'n', 'd')
    UNION ALL SELECT json_build_object('table', ${tableName('fk.conrelid')}, 'name', fk.conname::text, 'type', 'o', 'validated', true,
      'columns', ${attnames('fk.conrelid', 'fk.conkey')}, 'wholeRow', false, 'refTables', ARRAY[]::text[],
      'refColumns', ${attnames('fk.confrelid', 'fk.confkey')}, 'mutable', false, 'opaque', false,
      'events', CASE fk.confupdtype WHEN 'c' THEN 'C' WHEN 'n' THEN 'N' ELSE 'S' END)
      FROM fam JOIN pg_catalog.pg_constraint fk ON fk.confrelid = fam.oid AND fk.contype = 'f'
      WHERE fam.root = r.name AND fk.confupdtype IN ('c', 'n', 'd')
    UNION ALL SELECT ${entry('zx.indrelid', 'zc.relname::text', `'z'`, `ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = zx.indrelid AND a.attnum = ANY (zx.indkey::int2[]) AND a.attnum > 0 AND a.attlen < 0 ORDER BY a.attnum)`, 'false', 'false', 'false',
        'true', `''`, `, 'padded', ${PADDED}, 'classes', ${CLASSES}`)}
      FROM fam JOIN pg_catalog.pg_index zx ON zx.indrelid = fam.oid JOIN pg_catalog.pg_class zc ON zc.oid = zx.indexrelid
      WHERE fam.root = r.name AND zc.relam <> (SELECT am.oid FROM pg_catalog.pg_am am WHERE am.amname = 'hash') AND (SELECT count(*) FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = zx.indrelid AND a.attnum = ANY (zx.indkey::int2[]) AND a.attnum > 0 AND a.attlen < 0) > 1) AS e), '[]'::json)`;

/** A CHECK's stored expression (none for a foreign key), an index's expressions and predicate, as text. */
const CON_TREE = `COALESCE(k.conbin::text, '')`;
const INDEX_TREE = `(COALESCE(x.indexprs::text, '') || ' ' || COALESCE(x.indpred::text, ''))`;

/** Of the relations asked ($1 schemas, $2 names), each one's kind, its family's constraints and indexes, and what else an UPDATE of it computes (COMPUTED_SQL). */
export const CONSTRAINTS_SQL = `WITH RECURSIVE r AS (
    SELECT c.oid, n.nspname::text || '.' || c.relname::text AS name, c.relkind::text AS kind
    FROM unnest($1::text[], $2::text[]) AS x(nsp, rel)
    JOIN pg_catalog.pg_namespace n ON n.nspname = x.nsp
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.rel),
  fam(root, oid) AS (SELECT name, oid FROM r
    UNION SELECT f.root, i.inhrelid FROM fam f JOIN pg_catalog.pg_inherits i ON i.inhparent = f.oid),
  anc(root, oid) AS (SELECT name, oid FROM r
    UNION SELECT a.root, i.inhparent FROM anc a JOIN pg_catalog.pg_inherits i ON i.inhrelid = a.oid)
  SELECT r.name AS relation, r.kind, COALESCE((SELECT json_agg(json_build_object(
      'table', ${tableName('k.conrelid')},
      'name', k.conname::text, 'type', k.contype::text, 'validated', k.convalidated,
      'columns', ${attnames('k.conrelid', 'k.conkey')},
      'wholeRow', k.contype = 'c' AND 0 = ANY (k.conkey),
      'refTables', CASE WHEN k.contype = 'f' THEN ARRAY(
        WITH RECURSIVE up(oid) AS (SELECT k.confrelid UNION SELECT i.inhparent FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid = up.oid),
          down(oid) AS (SELECT k.confrelid UNION SELECT i.inhrelid FROM down JOIN pg_catalog.pg_inherits i ON i.inhparent = down.oid)
        SELECT rn.nspname::text || '.' || rc.relname::text FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE rc.oid IN (SELECT oid FROM up UNION SELECT oid FROM down)) ELSE ARRAY[]::text[] END,
      'refColumns', CASE WHEN k.contype = 'f' THEN ${attnames('k.confrelid', 'k.confkey')} ELSE ARRAY[]::text[] END,
      'mutable', ${MUTABLE(CON_TREE)},
      'opaque', ${OPAQUE(CON_TREE)}, 'events', ''
    ) ORDER BY k.conrelid, k.conname)
    FROM fam JOIN pg_catalog.pg_constraint k ON k.conrelid = fam.oid
    WHERE fam.root = r.name AND k.contype IN ('c', 'f')), '[]'::json) AS constraints,
  COALESCE((SELECT json_agg(json_build_object(
      'table', ${tableName('x.indrelid')},
      'name', ic.relname::text, 'type', CASE WHEN x.indisunique OR x.indisexclusion THEN 'i' ELSE 'x' END, 'validated', true,
      -- Its key columns, and those its expressions and predicate read (recorded as its dependencies).
      'columns', ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum > 0
        AND (a.attnum = ANY (x.indkey::int2[]) OR a.attnum IN (SELECT d.refobjsubid FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = x.indexrelid
            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = x.indrelid)) ORDER BY a.attnum),
      -- A row variable is recorded as no column: a Var of attribute 0 in the stored expression.
      'wholeRow', ${INDEX_TREE} LIKE '%:varattno 0 %',
      'refTables', ARRAY[]::text[], 'refColumns', ARRAY[]::text[],
      'mutable', ${MUTABLE(INDEX_TREE)},
      'opaque', ${OPAQUE(INDEX_TREE)}, 'events', ''
    ) ORDER BY x.indrelid, ic.relname)
    FROM fam JOIN pg_catalog.pg_index x ON x.indrelid = fam.oid JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
    WHERE fam.root = r.name AND (x.indexprs IS NOT NULL OR x.indpred IS NOT NULL OR x.indisexclusion)), '[]'::json) AS indexes,
  ${COMPUTED_SQL} AS computed
  FROM r`;
