/**
 * Foreign key checks a change of rows runs (view-reader.ts lists them, widened-relations.ts
 * follows them): each reads another table on the statement's behalf, and whether it fails
 * (SQLSTATE 23503) says what that table holds, one bit a statement. So, for deny rules, a write
 * reads, PostgreSQL's way (ri_triggers.c):
 * - on its own side, the table each of its keys references: an INSERT checks every key, an
 *   UPDATE the keys whose columns it sets;
 * - on the referenced side, each table with a NO ACTION or RESTRICT key referencing it: a DELETE
 *   (ON DELETE NO ACTION/RESTRICT) checks no row still references one removed, an UPDATE setting
 *   a referenced column (ON UPDATE NO ACTION/RESTRICT) the same. A CASCADE, SET NULL or SET
 *   DEFAULT key writes that table instead (widened-relations.ts follows it as a cascade).
 * An UPDATE of a relation with descendants may move a row to another partition (a DELETE and an
 * INSERT): every key then counts, whichever columns it sets (a refusal too many at worst).
 * A key referencing a partitioned table reads that table (its partitions, as a read without ONLY
 * does); the copies PostgreSQL keeps of it for each referenced partition are not listed on the
 * referencing side (they carry the referenced side's actions).
 */
import { DELETE, INSERT, UPDATE, firing } from './write-runs.js';
import type { KeyCheck } from './view-reader.js';

/**
 * The part of RELATIONS_SQL (view-reader.ts) that lists a relation's key checks as a JSON array
 * of KeyCheck, over `fam` (the relation and its descendants: write-runs.ts runsSql); `nameOf`
 * spells a relation's oid as schema.name. In the one query a statement's relations already cost.
 */
export function keyChecksSql(nameOf: (oid: string) => string): string {
  const attnames = (rel: string, nums: string) =>
    `ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = ${rel} AND a.attnum = ANY (${nums}) ORDER BY a.attnum)`;
  const checked = `('a', 'r')`;
  return `COALESCE((SELECT json_agg(json_build_object('reads', x.reads, 'key', x.key, 'events', x.events, 'columns', x.columns) ORDER BY x.key, x.reads, x.events) FROM (
      SELECT ${nameOf('k.confrelid')} AS reads, k.conname::text AS key, ${INSERT | UPDATE} AS events, ${attnames('k.conrelid', 'k.conkey')} AS columns
        FROM fam JOIN pg_catalog.pg_constraint k ON k.conrelid = fam.oid WHERE k.contype = 'f'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint pk WHERE pk.oid = k.conparentid AND pk.conrelid = k.conrelid)
      UNION SELECT ${nameOf('k.conrelid')}, k.conname::text,
          (CASE WHEN k.confdeltype IN ${checked} THEN ${DELETE} ELSE 0 END) | (CASE WHEN k.confupdtype IN ${checked} THEN ${UPDATE} ELSE 0 END),
          ${attnames('k.confrelid', 'k.confkey')}
        FROM fam JOIN pg_catalog.pg_constraint k ON k.confrelid = fam.oid
        WHERE k.contype = 'f' AND (k.confdeltype IN ${checked} OR k.confupdtype IN ${checked})) x), '[]'::json)`;
}

/** The key checks of a catalog answer (`key_checks`), fail closed: an answer not understood throws. */
export function keyChecks(row: { name: string; key_checks: unknown }): KeyCheck[] {
  const list = row.key_checks;
  const ok = (c: unknown): c is KeyCheck => {
    const k = c as KeyCheck;
    return typeof c === 'object' && c !== null && typeof k.reads === 'string' && typeof k.key === 'string' && Number.isInteger(k.events) &&
      Array.isArray(k.columns) && k.columns.every((x) => typeof x === 'string');
  };
  if (!Array.isArray(list) || !list.every(ok)) throw new Error(`catalog answer for ${row.name}: foreign key checks not understood`);
  return list.map((c) => ({ reads: c.reads, key: c.key, events: c.events, columns: [...c.columns] }));
}

/**
 * The checks among `checks` a change `events` of rows whose written columns are `columns` ('*'
 * the whole row) runs; `moves`: the relation has descendants, so an UPDATE may move a row
 * (see the top of the file).
 */
export function checksRun(checks: readonly KeyCheck[], events: number, columns: readonly string[], moves: boolean): KeyCheck[] {
  const fired = moves ? firing(events) : events;
  return checks.filter((c) => {
    const hit = fired & c.events;
    if (hit & (INSERT | DELETE)) return true;
    return (hit & UPDATE) !== 0 && (columns.includes('*') || c.columns.some((x) => columns.includes(x)));
  });
}
