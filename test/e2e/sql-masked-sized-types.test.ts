/**
 * A short constant written beside a masked column in one index is sized as PostgreSQL stores it,
 * not as written (sized-writes.ts): end to end against a real PostgreSQL.
 * 1. PostgreSQL: text, varchar, bytea, json, xml and citext store at most their input text's bytes
 *    (and a varlena header); jsonb, arrays, tsquery, tsvector, ranges, numeric may store more.
 * 2. The channel: a jsonb `'[[...]]'` or an int[] `'{1,1,...}'` of at most 256 bytes, beside a
 *    readable column filled first, fails on the row with the longer masked email only. Under the
 *    mask, such a value (and one of any type not known to store at most its text) is refused.
 * 3. Literals and parameters into text, varchar, bytea, json, xml, citext, a domain over text (over
 *    a domain), and an INCLUDE column of an index of another kind still run; a key column of a
 *    non-btree index (whose operator class may store another form) is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailRedactions, noLeakOf, ownTables, ranOk, type SqlWarden, startMaskedPair, stopAll, writersPolicy } from '../support/sql-warden.js';

const CAROL = 'carol.anne.lewis@example.com';
const DAVE = 'dave@example.com';

const TABLES = ['z_doc', 'z_arr', 'z_more', 'z_inc'];
const GRANT = writersPolicy(TABLES);
const MASK = emailRedactions(TABLES);

let db: TestDatabase;
let masked: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emst' });
  await db.query(`
    CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
    -- A readable pad (filled first, as an agent may) brings the index row near its limit; stored uncompressed.
    CREATE TABLE z_doc (id int PRIMARY KEY, email text, pad text, doc jsonb, note text, vc varchar(300), bin bytea, js json, x xml, ci citext);
    ALTER TABLE z_doc ALTER email SET STORAGE PLAIN, ALTER pad SET STORAGE PLAIN, ALTER doc SET STORAGE PLAIN;
    -- json and xml have no btree operator class: INCLUDE columns, stored as they are.
    CREATE INDEX z_doc_i ON z_doc (email, pad, doc, note, vc, bin, ci) INCLUDE (js, x);
    CREATE TABLE z_arr (id int PRIMARY KEY, email text, pad text, arr int[]);
    ALTER TABLE z_arr ALTER email SET STORAGE PLAIN, ALTER pad SET STORAGE PLAIN, ALTER arr SET STORAGE PLAIN;
    CREATE INDEX z_arr_i ON z_arr (email, pad, arr);
    CREATE DOMAIN z_json AS jsonb;
    CREATE DOMAIN z_txt AS text CHECK (VALUE <> 'forbidden');
    CREATE DOMAIN z_txt2 AS z_txt;
    CREATE TABLE z_more (id int PRIMARY KEY, email text, tq tsquery, tv tsvector, num numeric, rng int4range, dj z_json, dt z_txt, dt2 z_txt2);
    CREATE INDEX z_more_i ON z_more (email, tq, tv, num, rng, dj, dt, dt2);
    CREATE TABLE z_inc (id int PRIMARY KEY, email text, note text, tag text);
    CREATE INDEX z_inc_i ON z_inc USING spgist (note) INCLUDE (email, tag);
  `);
  await db.query(`INSERT INTO z_doc (id, email, pad) VALUES (1, '${CAROL}', repeat('x', 1800)), (2, '${DAVE}', repeat('x', 1800)), (3, '${DAVE}', repeat('x', 1800))`);
  await db.query(`INSERT INTO z_arr (id, email, pad) VALUES (1, '${CAROL}', repeat('x', 2200)), (2, '${DAVE}', repeat('x', 2200)), (3, '${DAVE}', repeat('x', 2200))`);
  for (const t of ['z_more', 'z_inc']) await db.query(`INSERT INTO ${t} (id, email) VALUES (1, '${CAROL}'), (2, '${DAVE}'), (3, '${DAVE}')`);
  await ownTables(db, TABLES);
  ({ masked, open } = await startMaskedPair(db, MASK, GRANT));
});

after(() => stopAll(db, masked, open));

const noLeak = noLeakOf([CAROL, DAVE]);
const call = (w: SqlWarden, sql: string, params: unknown[] = []) => w.w.call('query_database', { connection: 'db', sql, params });
const answer = (r: { isError: boolean }): string => (r.isError ? 'error' : 'ran');
const nested = (k: number) => '['.repeat(k) + ']'.repeat(k);
const ones = (k: number) => `{${Array(k).fill('1').join(',')}}`;

/** Whether `sql` runs as the admin, rolled back either way. */
async function fits(sql: string): Promise<boolean> {
  try {
    await db.query(`BEGIN; ${sql}; ROLLBACK`);
    return true;
  } catch {
    await db.query('ROLLBACK');
    return false;
  }
}

/** Each of `probes` refused under the mask as sized by an index, leaking nothing: the ones that were not. */
async function unrefused(probes: readonly (readonly [string, unknown[]])[]): Promise<string[]> {
  const ran: string[] = [];
  for (const [sql, params] of probes) {
    const r = await call(masked, sql, params);
    noLeak(r, sql);
    if (!r.isError || !/^WARDEN_DENIED: masked column public\.z_(doc|arr|more|inc)\.email would be sized by index z_(doc|arr|more|inc)_i of public\.z_\w+\b/.test(r.text)) {
      ran.push(`${sql.slice(0, 90)}: ${r.text.slice(0, 200)}`);
    } else assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['masking.columns'], r.text);
  }
  return ran;
}

describe('1. PostgreSQL: what a literal stores, by type', () => {
  /** The stored size (a datum's, less its 4-byte header) of `literal` read as `type`, and the literal's bytes. */
  const sized = async (literal: string, type: string) => (await db.query(
    `SELECT pg_catalog.pg_column_size($1::${type}) - 4 AS stored, octet_length($2::text) AS written`, [literal, literal])).rows[0] as { stored: number; written: number };

  test('text, varchar, bytea (hex, escape, plain), json, xml, citext, a domain over text store at most the text', async () => {
    for (const [literal, type] of [
      ['x'.repeat(200), 'text'], ['é'.repeat(100), 'varchar(300)'], ['\\x' + '41'.repeat(100), 'bytea'], ['\\\\'.repeat(50), 'bytea'], ['ab'.repeat(100), 'bytea'],
      [`[${nested(99)}]`, 'json'], [`{"a": [${ones(50).slice(1, -1)}]}`, 'json'], [`<a>${'x'.repeat(100)}</a>`, 'xml'], ['é'.repeat(100), 'public.citext'], ['y'.repeat(200), 'z_txt2'],
    ] as const) {
      const s = await sized(literal, type);
      assert.ok(s.stored <= s.written, `${type} ${literal.slice(0, 20)}: ${JSON.stringify(s)}`);
    }
  });

  test('jsonb, arrays, tsquery, tsvector, ranges, numeric, a domain over jsonb may store more', async () => {
    for (const [literal, type, times] of [
      [nested(100), 'jsonb', 3], [ones(100), 'int[]', 1.5], ['{a,a,a,a,a,a,a,a}', 'text[]', 2], [Array(50).fill('a').join('&'), 'tsquery', 4],
      ['a:1,2,3,4,5,6,7,8,9', 'tsvector', 1], ['[1,2)', 'int4range', 2], ['10001', 'numeric', 1], [nested(100), 'z_json', 3],
    ] as const) {
      const s = await sized(literal, type);
      assert.ok(s.stored > s.written * times, `${type} ${literal.slice(0, 20)}: ${JSON.stringify(s)}`);
    }
  });
});

describe('2. a constant stored larger than its text, beside a masked column in one index', () => {
  const doc = (s: string, id: number) => `UPDATE public.z_doc SET doc = '${s}' WHERE id = ${id}`;
  const arr = (s: string, id: number) => `UPDATE public.z_arr SET arr = '${s}' WHERE id = ${id}`;

  test('the channel is real: without the mask, a jsonb or int[] literal of at most 256 bytes fails on one row only', async () => {
    for (const [set, value] of [[doc, nested], [arr, ones]] as const) {
      let k = 1;
      while (k < 128 && !(!(await fits(set(value(k), 1))) && (await fits(set(value(k), 2))))) k++;
      assert.ok(k < 128, 'no k told the two emails apart');
      assert.ok(Buffer.byteLength(value(k)) <= 256, 'a literal the old rule let through');
      assert.deepEqual([answer(await open.query(set(value(k), 1))), answer(await open.query(set(value(k), 2)))], ['error', 'ran']);
    }
  });

  test('under the mask, a short literal or parameter into a type not known to store at most its text is refused before it runs', async () => {
    const ran = await unrefused([
      [doc(nested(100), 3), []],
      [doc('{}', 3), []],
      ['UPDATE public.z_doc SET doc = $1 WHERE id = 3', [nested(100)]],
      [arr(ones(100), 3), []],
      ['UPDATE public.z_arr SET arr = $1 WHERE id = 3', ['{1}']],
      ["UPDATE public.z_more SET tq = 'a&b' WHERE id = 3", []],
      ["UPDATE public.z_more SET tv = 'a' WHERE id = 3", []],
      ["UPDATE public.z_more SET num = '1' WHERE id = 3", []],
      ['UPDATE public.z_more SET num = 1 WHERE id = 3', []],
      ["UPDATE public.z_more SET rng = '[1,2)' WHERE id = 3", []],
      ["UPDATE public.z_more SET dj = '[]' WHERE id = 3", []],
      [`INSERT INTO public.z_doc (id, doc) VALUES (3, '${nested(100)}') ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, []],
      // A key column of an index of another access method: its operator class may store another form.
      ["UPDATE public.z_inc SET note = 'x' WHERE id = 3", []],
    ]);
    assert.deepEqual(ran, []);
    assert.equal((await db.query('SELECT 1 FROM z_doc WHERE id = 3 AND doc IS NULL')).rowCount, 1);
    // The refusal names why: the type (through its domain), or the index's kind.
    assert.match((await masked.query("UPDATE public.z_more SET dj = '[]' WHERE id = 3")).text, /; dj is of type jsonb not known to store a value in at most the bytes of its text/);
    assert.match((await masked.query("UPDATE public.z_inc SET note = 'x' WHERE id = 3")).text, /; note is a key of an index that is not a btree/);
  });
});

describe('3. types stored as at most their text still run', () => {
  test('under the mask, literals and parameters into text, varchar, bytea, json, xml, citext, domains over text, NULL into jsonb, an INCLUDE column run', async () => {
    for (const [sql, params] of [
      ["UPDATE public.z_doc SET note = 'short', vc = 'é' WHERE id = 3", []],
      ['UPDATE public.z_doc SET vc = $1, bin = $2 WHERE id = 3', ['abc', '\\x4142']],
      ["UPDATE public.z_doc SET bin = '\\x41', js = '[[[[1]]]]' WHERE id = 3", []],
      ["UPDATE public.z_doc SET x = '<a>b</a>', ci = 'Abc' WHERE id = 3", []],
      ['UPDATE public.z_doc SET note = 12, js = $1 WHERE id = 3', ['{"a": 1}']],
      ['UPDATE public.z_doc SET doc = NULL WHERE id = 3', []],
      ["INSERT INTO public.z_doc (id, note) VALUES (3, 'v') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note", []],
      ["UPDATE public.z_more SET dt = 'a', dt2 = $1 WHERE id = 3", ['b']],
      ["UPDATE public.z_inc SET tag = 't' WHERE id = 3", []],
    ] as [string, unknown[]][]) ranOk(await call(masked, sql, params), sql);
    assert.deepEqual((await db.query('SELECT note, vc, bin::text, js::text, x::text, ci::text FROM z_doc WHERE id = 3')).rows,
      [{ note: 'v', vc: 'abc', bin: '\\x41', js: '{"a": 1}', x: '<a>b</a>', ci: 'Abc' }]);
    assert.deepEqual((await db.query('SELECT dt, dt2 FROM z_more WHERE id = 3')).rows, [{ dt: 'a', dt2: 'b' }]);
    assert.equal((await db.query("SELECT 1 FROM z_inc WHERE id = 3 AND tag = 't'")).rowCount, 1);
  });
});
