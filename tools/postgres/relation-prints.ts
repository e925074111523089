/**
 * Whether the catalog answers a masked read was judged by are still the catalog's when its
 * statement ran. Masking reads cached answers (up to the catalog's 60 s TTL): each relation's
 * kind, columns and inheritance family (view-catalog.ts), each view's definition (view-prints.ts),
 * and the relation and column a result field's table OID and column number name
 * (catalog-names.ts). A change made out of band meanwhile (a migration, an admin, another Warden
 * replica, whose writes forget only its own caches) would mask the rows by the old answer: a
 * column renamed into a masked name (`ALTER TABLE users RENAME COLUMN email TO contact`, then
 * `note` to `email`), a table replaced by a view of another table under its name, a table
 * attached as a partition of a masked one.
 *
 * So each relation's answer is read with its print (relationPrintSql: its oid, kind, column
 * names by number, and the names of its ancestors and descendants), the prints a call used are
 * kept on its Caller (notePrint), and a masked read sends one catalog query more in its
 * statement's round trip (capped-query.ts Trailer: after the statement, before Sync, in the same
 * implicit transaction, so no round trip more): the prints of the relations it used and named,
 * the print of each view it followed, and each named relation's oid and column names by number
 * (what its result fields' origins are checked against). After the statement, before any row is
 * returned, they are compared (sameCatalog): a difference forgets every catalog answer of the
 * connection and judges the read anew once, then refuses it (fail closed). A change committed
 * before the statement took its locks is seen; DDL on a relation the statement read cannot
 * commit before the trailer has run (the statement's lock is held to Sync).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { Trailer } from './capped-query.js';
import type { FieldOrigin } from './catalog-names.js';
import { CHANGED_PRINT, viewPrintSql } from './view-prints.js';

/** schema.name of the relation whose oid is `oid` (an SQL expression). */
const qualified = (oid: string): string => `(SELECT pn.nspname::text || '.' || pc.relname::text FROM pg_catalog.pg_class pc
  JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace WHERE pc.oid = ${oid})`;

/**
 * The print of the relation whose pg_class row is `c` (an SQL expression over it): its oid,
 * kind, column names in column-number order (a dropped column counts as its number), and the
 * names of its ancestors and descendants at any depth (pg_inherits: partitions and inheritance).
 * The same expression in RELATIONS_SQL (view-reader.ts) and in the trailer, so equal prints mean
 * the same answers.
 */
export const relationPrintSql = (c: string): string => `${c}.oid::text || ':' || ${c}.relkind::text || ':' || pg_catalog.md5(ARRAY(
  SELECT CASE WHEN pa.attisdropped THEN '' ELSE pa.attname::text END FROM pg_catalog.pg_attribute pa WHERE pa.attrelid = ${c}.oid AND pa.attnum > 0 ORDER BY pa.attnum)::text)
  || ':' || pg_catalog.md5(ARRAY(WITH RECURSIVE pu(oid) AS (SELECT pi.inhparent FROM pg_catalog.pg_inherits pi WHERE pi.inhrelid = ${c}.oid
      UNION SELECT pi.inhparent FROM pg_catalog.pg_inherits pi JOIN pu ON pi.inhrelid = pu.oid)
    SELECT ${qualified('pu.oid')} FROM pu ORDER BY 1)::text || ARRAY(WITH RECURSIVE pd(oid) AS (SELECT pi.inhrelid FROM pg_catalog.pg_inherits pi WHERE pi.inhparent = ${c}.oid
      UNION SELECT pi.inhrelid FROM pg_catalog.pg_inherits pi JOIN pd ON pi.inhparent = pd.oid)
    SELECT ${qualified('pd.oid')} FROM pd ORDER BY 1)::text)`;

/**
 * The trailer's query: one row per name (kind 'r' relation, 'v' view definition): its print now
 * (NULL when the catalog has no such relation), and for a relation its oid and its column names
 * by number as JSON (null for a dropped column).
 */
const TRAILER_SQL = `SELECT q.kind, q.name, CASE WHEN q.kind = 'v' THEN ${viewPrintSql('c')} ELSE ${relationPrintSql('c')} END AS print,
  c.oid::text AS oid, CASE WHEN q.kind = 'r' THEN pg_catalog.to_json(ARRAY(SELECT CASE WHEN a.attisdropped THEN NULL ELSE a.attname::text END
    FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum))::text END AS columns
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS q(kind, name, nsp, rel)
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel`;

/** What a masked read was judged by: the prints it used, and the relations its statement names. */
export interface JudgedCatalog {
  relationPrints: ReadonlyMap<string, string>;
  viewPrints: ReadonlyMap<string, string>;
  named: ReadonlySet<string>;
}

/** The trailer that re-reads `judged`'s prints, and each named relation's columns (`split` parts schema.name as the readers do). */
export function catalogTrailer(judged: JudgedCatalog, split: (names: readonly string[]) => unknown[]): Trailer {
  // Names the walk does not ask either (a pseudo-relation of the analysis, `\u0000...`) are left out.
  const relations = [...new Set([...judged.relationPrints.keys(), ...[...judged.named].filter(askable)])];
  const views = [...judged.viewPrints.keys()];
  const [, nsp, rel] = split([...relations, ...views]) as [string[], string[], string[]];
  return {
    text: TRAILER_SQL,
    values: [[...relations.map(() => 'r'), ...views.map(() => 'v')], [...relations, ...views], nsp, rel],
  };
}

/** A name the catalog can be asked for: schema.name, one dot. */
function askable(name: string): boolean {
  const dot = name.indexOf('.');
  return !name.startsWith('\u0000') && dot > 0 && name.indexOf('.', dot + 1) < 0;
}

/** A result field: its table OID and column number (PostgreSQL's metadata) and the origin masking used for it. */
export interface JudgedField {
  tableID: number;
  columnID: number;
  origin: FieldOrigin | null;
}

/**
 * Whether the trailer's answer (`rows`, text cells in TRAILER_SQL's order) shows the catalog the
 * read was judged by: every print it used as the catalog's now, and each field whose origin names
 * a relation the statement names with that relation's oid and column name.
 */
export function sameCatalog(judged: JudgedCatalog, fields: readonly JudgedField[], rows: readonly (readonly (string | null)[])[]): boolean {
  const now = { r: new Map<string, { print: string | null; oid: string | null; columns: string | null }>(), v: new Map<string, string | null>() };
  for (const [kind, name, print, oid, columns] of rows) {
    if (kind === 'v' && name) now.v.set(name, print ?? null);
    else if (kind === 'r' && name) now.r.set(name, { print: print ?? null, oid: oid ?? null, columns: columns ?? null });
  }
  for (const [name, print] of judged.relationPrints) if (print === CHANGED_PRINT || now.r.get(name)?.print !== print) return false;
  for (const [name, print] of judged.viewPrints) if (print === CHANGED_PRINT || now.v.get(name) !== print) return false;
  const columnsOf = new Map<string, (string | null)[] | null>();
  for (const f of fields) {
    if (!f.origin || !judged.named.has(f.origin.relation)) continue; // asked after the statement: the catalog's now
    const rel = now.r.get(f.origin.relation);
    if (!rel || rel.oid !== String(f.tableID)) return false;
    let columns = columnsOf.get(f.origin.relation);
    if (columns === undefined) columnsOf.set(f.origin.relation, (columns = parseColumns(rel.columns)));
    if (!columns || columns[f.columnID - 1] !== f.origin.column) return false;
  }
  return true;
}

function parseColumns(json: string | null): (string | null)[] | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as (string | null)[]) : null;
  } catch {
    return null;
  }
}

/** The refusal when the catalog moved twice under one read (coded; names no value). */
export function catalogMoved(): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    "the catalog changed while this read was judged (a relation this call's masks were judged by was renamed, replaced, " +
      'redefined, or attached or detached as a partition, by an admin or through another Warden); under masks rows are returned ' +
      "only as judged by the catalog they were read under, so none were; Warden's catalog answers are forgotten: ask again",
    { ruleIds: ['masking.columns'], reason: 'catalog changed between check and statement' },
  );
}
