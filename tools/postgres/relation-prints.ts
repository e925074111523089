/**
 * Whether the catalog answers a call under masks or deny rules was judged by are still the
 * catalog's when its statement ran. Masking reads cached answers (up to the catalog's 60 s TTL): each relation's
 * kind, columns and inheritance family (view-catalog.ts), each view's definition (view-prints.ts),
 * and the relation and column a result field's table OID and column number name
 * (catalog-names.ts). A change made out of band meanwhile (a migration, an admin, another Warden
 * replica, whose writes forget only its own caches) would mask the rows by the old answer: a
 * column renamed into a masked name (`ALTER TABLE users RENAME COLUMN email TO contact`, then
 * `note` to `email`), a table replaced by a view of another table under its name, a table
 * attached as a partition of a masked one.
 *
 * So each relation's answer is read with its print (relationPrintSql): its oid and the member
 * print of it and of each relation of its inheritance family at any depth (memberPrintSql: oid,
 * kind, schema and name, column names by number, its parents and children by oid). The
 * prints a call used are kept on its Caller (notePrint), and a read sends one catalog
 * query more in its statement's round trip (capped-query.ts Trailer: after the statement, before
 * Sync, in the same implicit transaction, so no round trip more): the member print of every
 * oid its prints hold, by oid (an index lookup each, cheap to plan: no join, no recursion),
 * and the print of each view it followed. A relation attached or detached anywhere in a family
 * changes a member's parents or children; a rename (of a schema too), a column renamed, added or dropped, a
 * relation dropped or replaced changes or removes a member print; each result field whose
 * origin is a relation the statement names is checked against that relation's oid and its
 * column name by number in the print. After the statement, before any row is
 * returned, they are compared (catalogCheck): a difference forgets every catalog answer of the
 * connection and judges the read anew once, then refuses it (fail closed). A write sends the
 * same query as its statement's trailer in its transaction and is refused before COMMIT. A change committed
 * before the statement took its locks is seen; DDL on a relation the statement read cannot
 * commit before the trailer has run (the statement's lock is held to Sync).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import type { Trailer } from './capped-query.js';
import type { FieldOrigin } from './catalog-names.js';
import { CHANGED_PRINT, viewPrintSql } from './view-prints.js';

/**
 * The member print of the relation whose pg_class row is `m` (an SQL expression over it), as
 * JSON text: [oid, kind, schema (quoted as an identifier where it needs it), name, [column name
 * by number, null for a dropped one], [its parents' oids], [its children's oids]] (pg_inherits,
 * partitions and inheritance alike; each an index scan). The same expression in
 * RELATIONS_SQL (through relationPrintSql) and in the trailer, so equal text means the same answer.
 */
const memberPrintSql = (m: string): string => `pg_catalog.json_build_array(${m}.oid::text, ${m}.relkind::text, ${m}.relnamespace::pg_catalog.regnamespace::text, ${m}.relname::text,
  ARRAY(SELECT CASE WHEN pa.attisdropped THEN NULL ELSE pa.attname::text END FROM pg_catalog.pg_attribute pa WHERE pa.attrelid = ${m}.oid AND pa.attnum > 0 ORDER BY pa.attnum),
  ARRAY(SELECT pi.inhparent FROM pg_catalog.pg_inherits pi WHERE pi.inhrelid = ${m}.oid ORDER BY 1),
  ARRAY(SELECT pi.inhrelid FROM pg_catalog.pg_inherits pi WHERE pi.inhparent = ${m}.oid ORDER BY 1))::text`;

/**
 * The print of the relation whose pg_class row is `c` (an SQL expression over it), as JSON text:
 * [its oid, [the member print of it and of each ancestor and descendant at any depth, by oid]].
 */
export const relationPrintSql = (c: string): string => `pg_catalog.json_build_array(${c}.oid::text, ARRAY(SELECT ${memberPrintSql('fm')}
  FROM pg_catalog.pg_class fm WHERE fm.oid IN (WITH RECURSIVE up(oid) AS (SELECT ${c}.oid UNION SELECT pi.inhparent FROM pg_catalog.pg_inherits pi JOIN up ON pi.inhrelid = up.oid),
    down(oid) AS (SELECT ${c}.oid UNION SELECT pi.inhrelid FROM pg_catalog.pg_inherits pi JOIN down ON pi.inhparent = down.oid)
    SELECT up.oid FROM up UNION SELECT down.oid FROM down) ORDER BY fm.oid))::text`;

/** The trailer's relation part: the member print of each oid asked ($1), none for one the catalog no longer has. */
const MEMBERS_SQL = `SELECT 'r'::text AS kind, m.oid::text AS key, ${memberPrintSql('m')} AS print FROM pg_catalog.pg_class m WHERE m.oid = ANY($1::oid[])`;
/** The trailer's view part: the print of each view followed ($2 names, $3 schemas, $4 names in them; NULL when gone). */
const VIEWS_SQL = `SELECT 'v'::text, q.name, ${viewPrintSql('c')}
FROM unnest($2::text[], $3::text[], $4::text[]) AS q(name, nsp, rel)
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel`;

/** What a call was judged by: the prints it used, and the relations its statement names. */
export interface JudgedCatalog {
  relationPrints: ReadonlyMap<string, string>;
  viewPrints: ReadonlyMap<string, string>;
  named: ReadonlySet<string>;
}

/** A relation print parsed: its own oid, and its family's member prints (JSON text) by oid. */
interface ParsedPrint {
  oid: string;
  members: Map<string, string>;
}

function parsePrint(print: string): ParsedPrint | null {
  if (print === CHANGED_PRINT) return null;
  try {
    const v: unknown = JSON.parse(print);
    if (!Array.isArray(v) || typeof v[0] !== 'string' || !Array.isArray(v[1])) return null;
    const members = new Map<string, string>();
    for (const m of v[1] as unknown[]) {
      if (typeof m !== 'string') return null;
      const oid: unknown = (JSON.parse(m) as unknown[])[0];
      if (typeof oid !== 'string' || !/^\d+$/.test(oid)) return null;
      members.set(oid, m);
    }
    return members.has(v[0]) ? { oid: v[0], members } : null;
  } catch {
    return null;
  }
}

/** A result field: its table OID and column number (PostgreSQL's metadata) and the origin masking used for it. */
export interface JudgedField {
  tableID: number;
  columnID: number;
  origin: FieldOrigin | null;
}

/** The trailer's answer: text cells (kind, key, print). */
type Rows = readonly (readonly (string | null)[])[];

/**
 * The check of what a call was judged by: its trailer (the query), and whether the trailer's
 * answer shows the same catalog (`same`; with the result's fields for a read) or differs in its
 * view prints (`viewsMoved`: the refusal then names the views).
 */
export interface CatalogCheck extends Trailer {
  same(rows: Rows, fields?: readonly JudgedField[]): boolean;
  viewsMoved(rows: Rows): boolean;
  /** The views whose prints were judged (what a refusal names). */
  views: ReadonlyMap<string, string>;
}

/**
 * The check of `judged` (`split` parts schema.name as the readers do). Its prints are taken as
 * they are now, parsed once: answers the call reads after its statement (a view first met then,
 * a field's origin) are the catalog's of that moment, not judged before it.
 */
export function catalogCheck(judged: JudgedCatalog, split: (names: readonly string[]) => unknown[]): CatalogCheck {
  const parsed = new Map<string, ParsedPrint | null>();
  const oids = new Set<string>();
  for (const [name, print] of judged.relationPrints) {
    const p = parsePrint(print);
    parsed.set(name, p);
    for (const oid of p?.members.keys() ?? []) oids.add(oid);
  }
  const views = new Map(judged.viewPrints);
  const named = new Set(judged.named);
  const viewsSame = (now: ReadonlyMap<string, string | null>): boolean => [...views].every(([name, print]) => print !== CHANGED_PRINT && now.get(name) === print);
  let trailer: Trailer = { text: MEMBERS_SQL, values: [[...oids]] };
  if (views.size) {
    const [, nsp, rel] = split([...views.keys()]) as [string[], string[], string[]];
    trailer = { text: `${MEMBERS_SQL}\nUNION ALL\n${VIEWS_SQL}`, values: [[...oids], [...views.keys()], nsp, rel] };
  }
  return {
    ...trailer,
    views,
    viewsMoved: (rows) => views.size > 0 && !viewsSame(answer(rows).v),
    same(rows, fields = []) {
      const now = answer(rows);
      for (const p of parsed.values()) {
        if (!p) return false;
        for (const [oid, member] of p.members) if (now.r.get(oid) !== member) return false;
      }
      if (!viewsSame(now.v)) return false;
      for (const f of fields) {
        if (!f.origin || !named.has(f.origin.relation)) continue; // asked after the statement: the catalog's now
        // A named relation a field comes from was judged by its print: one without is not vouched for.
        const p = parsed.get(f.origin.relation);
        if (!p || p.oid !== String(f.tableID)) return false;
        const columns = columnsOf(p.members.get(p.oid)!);
        if (!columns || columns[f.columnID - 1] !== f.origin.column) return false;
      }
      return true;
    },
  };
}

/**
 * A write's result fields (its RETURNING list) checked by its trailer's prints before COMMIT:
 * their origins (`origin`: cached answers, maybe older than the prints), asked of the catalog
 * once more (`forget` first) when they differ; null when they still do (the write is refused,
 * nothing committed). The relations its statement names are locked by it until COMMIT, so none of
 * them is renamed meanwhile: the origins checked are the ones its rows are masked by.
 */
export async function checkedFieldOrigins(check: CatalogCheck, rows: Rows, fields: readonly { tableID: number; columnID: number }[],
  origin: (f: { tableID: number; columnID: number }) => Promise<FieldOrigin | null>, forget: () => void): Promise<(FieldOrigin | null)[] | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt) forget();
    const origins = await Promise.all(fields.map(origin));
    if (check.same(rows, fields.map((f, i) => ({ tableID: f.tableID, columnID: f.columnID, origin: origins[i] ?? null })))) return origins;
  }
  return null;
}

/** The trailer's answer by kind: member prints by oid, view prints by name (NULL: gone). */
function answer(rows: Rows): { r: Map<string, string | null>; v: Map<string, string | null> } {
  const now = { r: new Map<string, string | null>(), v: new Map<string, string | null>() };
  for (const [kind, key, print] of rows) {
    if (kind === 'v' && key) now.v.set(key, print ?? null);
    else if (kind === 'r' && key) now.r.set(key, print ?? null);
  }
  return now;
}

/** The column names by number of a member print. */
function columnsOf(member: string): (string | null)[] | null {
  try {
    const v = (JSON.parse(member) as unknown[])[4];
    return Array.isArray(v) ? (v as (string | null)[]) : null;
  } catch {
    return null;
  }
}

/** The refusal when the catalog moved under a call (a read: twice; a write: once, nothing committed) (coded; names no value). */
export function catalogMoved(wrote = false): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    "the catalog changed while this call was judged (a relation its masks or deny rules were judged by was renamed, replaced, " +
      'altered, or attached or detached as a partition, by an admin or through another Warden); ' +
      (wrote
        ? 'a write runs only under the catalog it was judged by, so nothing was committed; '
        : 'rows are returned only as judged by the catalog they were read under, so none were; ') +
      "Warden's catalog answers are forgotten: ask again",
    { ruleIds: ['masking.columns'], reason: 'catalog changed between check and statement' },
  );
}
