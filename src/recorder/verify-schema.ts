/**
 * Verify of the SQLite file's schema and indexes. Why: verify and the reviewer's readers query the
 * same tables, but not the same way. Verify scans tables in rowid order; the UI and CLI list
 * sessions and calls through indexes. So an index that lacks a row (a partial index whose
 * `WHERE` was then edited out of sqlite_master with writable_schema) hides a session from every
 * listing while verify sees it; a verified table renamed away and replaced by a filtering view
 * (verify skips a check whose table is absent, as in older files) or an extra trigger that
 * rewrites future rows changes what a reviewer sees. The objects must be exactly those the
 * file's schema version creates (an empty in-memory store migrated to it is the reference; the
 * append-only guards may be missing, as whoever can write the file can drop them anyway), and
 * every index must hold as many entries as its table has rows. Index counts do not catch an
 * entry rewritten in place with a byte editor: `PRAGMA integrity_check` does, at the cost of
 * reading the whole file again (docs/transcripts.md).
 */
import Database from 'better-sqlite3';
import { migrate, schemaVersion } from './sqlite-schema.js';
import { PG_APPROVAL_CALL_INDEX, SQLITE_EVENT_CALL } from './session-records-sql.js';

/** Guards a purge drops and recreates; whoever can write the file can drop them too. */
const OPTIONAL = new Set(['records_append_only_update', 'records_append_only_delete']);
/** SQLite's own objects (ANALYZE statistics, AUTOINCREMENT counters); a table's own PRIMARY KEY and UNIQUE indexes are compared. */
const INTERNAL = /^sqlite_(stat\d|sequence$)/;

interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

// Every object is compared by its SQL, spaces aside. Tables too (red-team): verify and the readers
// read the same table, but the readers filter in SQL, where the definition decides what matches
// (a column declared NUMERIC no longer equals its numeric-looking text), and a table rebuilt
// without its PRIMARY KEY takes a second row for a recorded call, which every orphan check
// accepts (its id and seq have their record) and `show` lists in another session. Shadow
// tables of the free-text index are compared by name only: SQLite writes their SQL itself.
function shape(o: SchemaObject, shadow: ReadonlySet<string>): string {
  const sql = shadow.has(o.name) ? '' : (o.sql ?? '').replace(/\s+/g, ' ').trim();
  return `${o.type} on ${o.tbl_name}: ${sql}`;
}

function objects(db: Database.Database): Map<string, SchemaObject> {
  const rows = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master').all() as SchemaObject[];
  return new Map(rows.filter((o) => !INTERNAL.test(o.name)).map((o) => [o.name, o]));
}

function shadowTables(db: Database.Database): Set<string> {
  return new Set(db.prepare(`SELECT name FROM pragma_table_list WHERE type = 'shadow'`).pluck().all() as string[]);
}

/**
 * Where the file's schema objects differ from what its schema version creates, or null.
 * `approvalEvents`: the approval_event records the chain walk met (the whole chain after any cut).
 */
export function schemaMismatch(db: Database.Database, approvalEvents: number): { seq: number; reason: string } | null {
  const version = schemaVersion(db);
  const ref = new Database(':memory:');
  let want: Map<string, SchemaObject>;
  let shadow: Set<string>;
  try {
    migrate(ref, version);
    want = objects(ref);
    shadow = shadowTables(ref);
  } finally {
    ref.close();
  }
  const have = objects(db);
  const differs = (what: string) => ({ seq: 0, reason: `the schema differs from what schema version ${version} creates: ${what}` });
  for (const [name, o] of have) {
    const w = want.get(name);
    if (!w) return differs(`${o.type} ${name} is not part of it`);
    if (shape(w, shadow) !== shape(o, shadow)) return differs(`${o.type} ${name} was altered (expected ${w.type} on ${w.tbl_name})`);
  }
  for (const [name, w] of want) {
    if (!have.has(name) && !OPTIONAL.has(name)) return differs(`${w.type} ${name} is missing`);
  }
  return indexCountMismatch(db) ?? approvalIndexMismatch(db, approvalEvents);
}

/**
 * The records table's partial index of approval events must hold one entry per approval_event
 * record: verify's approval replay and the readers list them through it, so a dropped entry (its
 * approvals rows edited to match) would hide the request from both. The walk counted the records
 * (no second scan); counting the index reads only its few entries.
 */
function approvalIndexMismatch(db: Database.Database, approvalEvents: number): { seq: number; reason: string } | null {
  // records_approval_events (schema v5) and, by the call each event names, records_approval_call
  // (v12: a session page reads its calls' events through it, session-records-sql.ts); each walked
  // by a condition on its first key that every entry meets.
  const indexes: [string, string][] = [
    ['records_approval_events', '(seq IS NULL OR seq IS NOT NULL)'],
    [PG_APPROVAL_CALL_INDEX, `((${SQLITE_EVENT_CALL}) IS NULL OR (${SQLITE_EVENT_CALL}) IS NOT NULL)`],
  ];
  for (const [name, all] of indexes) {
    if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).get(name)) continue; // before its schema version
    const entries = db.prepare(`SELECT count(*) FROM records INDEXED BY ${name} WHERE ${all} AND kind = 'approval_event'`).pluck().get() as number;
    if (entries === approvalEvents) continue;
    return { seq: 0, reason: `index ${name} holds ${entries} entries for ${approvalEvents} approval_event records: a listing through it would hide approval events verify sees` };
  }
  return null;
}

/**
 * Every index (bar the records table's, whose full count would cost a second scan of the chain;
 * its approval-event index is counted against the walk: approvalIndexMismatch) must count as many entries as its table has rows under the index's own WHERE.
 */
function indexCountMismatch(db: Database.Database): { seq: number; reason: string } | null {
  const rows = new Map<string, number>();
  // Primary-key and UNIQUE indexes too (sql NULL): readers look sessions and calls up by id.
  const indexes = db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name != 'records'`).all() as SchemaObject[];
  for (const o of indexes) {
    const where = /\sWHERE\s([\s\S]*)$/i.exec(o.sql ?? '')?.[1] ?? '';
    const cond = where ? ` WHERE ${where}` : '';
    const key = `${o.tbl_name}${cond}`;
    let n = rows.get(key);
    if (n === undefined) {
      n = db.prepare(`SELECT count(*) FROM "${o.tbl_name}" NOT INDEXED${cond}`).pluck().get() as number;
      rows.set(key, n);
    }
    // count(*) alone counts the table whatever INDEXED BY says: a condition on the index's first
    // column that every row meets makes SQLite walk the index.
    const first = (db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno LIMIT 1`).pluck().get(o.name) as string | null | undefined) ?? null;
    if (first === null) continue; // an expression index: none here
    const all = `("${first}" IS NULL OR "${first}" IS NOT NULL)`;
    const entries = db.prepare(`SELECT count(*) FROM "${o.tbl_name}" INDEXED BY "${o.name}" WHERE ${all}${where ? ` AND (${where})` : ''}`).pluck().get() as number;
    if (entries !== n) {
      return { seq: 0, reason: `index ${o.name} holds ${entries} entries for ${n} rows of ${o.tbl_name}: a listing through it would hide rows verify sees` };
    }
  }
  return null;
}
