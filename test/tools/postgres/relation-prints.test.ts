/**
 * Relation prints (relation-prints.ts) against a real PostgreSQL: the print a relation's catalog
 * answer is read with and the trailer's answer agree while nothing changed, and disagree after
 * each change that would mask rows by a stale answer: a column renamed, a table attached under a
 * partition of the family (two levels down), a schema renamed, a table dropped and created again
 * under its name; a field whose table OID or column name is not the judged one is refused too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogCheck, relationPrintSql, type JudgedCatalog, type JudgedField } from '../../../tools/postgres/relation-prints.js';
import { byParts } from '../../../tools/postgres/view-reader.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase({ prefix: 'relprints' });
  await db.query(`CREATE SCHEMA app;
    CREATE TABLE app.people (id int, email text, note text) PARTITION BY LIST (id);
    CREATE TABLE app.people_mid PARTITION OF app.people FOR VALUES IN (1, 2) PARTITION BY LIST (id);
    CREATE TABLE app.people_a PARTITION OF app.people_mid FOR VALUES IN (1);
    CREATE TABLE app.leaf (id int, email text, note text);
    CREATE TABLE app.users (id int, email text, note text)`);
});

after(async () => {
  await db?.drop();
});

/** The prints of `names` as RELATIONS_SQL reads them (view-reader.ts). */
async function judge(names: string[]): Promise<JudgedCatalog> {
  const prints = new Map<string, string>();
  for (const name of names) {
    const r = await db.query<{ p: string }>(`SELECT ${relationPrintSql('c')} AS p FROM pg_catalog.pg_class c WHERE c.oid = $1::regclass`, [name]);
    prints.set(name, r.rows[0]!.p);
  }
  return { relationPrints: prints, viewPrints: new Map(), named: new Set(names) };
}

/** The trailer's answer now, as text cells. */
async function trailerNow(judged: JudgedCatalog): Promise<(string | null)[][]> {
  const t = catalogCheck(judged, byParts);
  const r = await db.admin().query({ text: t.text, values: t.values, rowMode: 'array' });
  return r.rows as (string | null)[][];
}

/** Whether the trailer's answer `now` shows the catalog `judged` was judged by (with `fields`). */
const sameCatalog = (judged: JudgedCatalog, fields: JudgedField[], now: (string | null)[][]): boolean => catalogCheck(judged, byParts).same(now, fields);

const oid = async (name: string): Promise<number> => Number((await db.query<{ o: string }>('SELECT $1::regclass::oid::text AS o', [name])).rows[0]!.o);

test('unchanged: the trailer agrees with the prints, and a field is checked against the named relation\'s oid and column by number', async () => {
  const judged = await judge(['app.users', 'app.people']);
  const now = await trailerNow(judged);
  assert.equal(sameCatalog(judged, [], now), true);
  const users = await oid('app.users');
  assert.equal(sameCatalog(judged, [{ tableID: users, columnID: 2, origin: { relation: 'app.users', column: 'email', relkind: 'r' } }], now), true);
  assert.equal(sameCatalog(judged, [{ tableID: users, columnID: 3, origin: { relation: 'app.users', column: 'email', relkind: 'r' } }], now), false, 'column 3 is note, not email');
  assert.equal(sameCatalog(judged, [{ tableID: users + 1, columnID: 2, origin: { relation: 'app.users', column: 'email', relkind: 'r' } }], now), false, 'another table');
  // A named relation the call holds no print of is not vouched for.
  assert.equal(sameCatalog({ ...judged, named: new Set([...judged.named, 'app.leaf']) }, [{ tableID: await oid('app.leaf'), columnID: 2, origin: { relation: 'app.leaf', column: 'email', relkind: 'r' } }], now), false);
  // A print that is not one (a call that met two differing answers) never matches.
  assert.equal(sameCatalog({ ...judged, relationPrints: new Map([['app.users', '\u0000changed']]) }, [], now), false);
});

test('each change is seen: a column renamed, an attach two levels down, a schema renamed, a table dropped and created again', async () => {
  const changes: [string, string[], string][] = [
    ['app.users', ['app.users'], 'ALTER TABLE app.users RENAME COLUMN note TO note2'],
    ['app.people', ['app.people'], 'ALTER TABLE app.people_mid ATTACH PARTITION app.leaf FOR VALUES IN (2)'],
    ['app.users', ['app.users'], 'ALTER SCHEMA app RENAME TO app2; CREATE SCHEMA app; CREATE TABLE app.users (id int, email text, note2 text)'],
  ];
  for (const [, names, ddl] of changes) {
    const judged = await judge(names);
    assert.equal(sameCatalog(judged, [], await trailerNow(judged)), true, `before: ${ddl}`);
    await db.query(ddl);
    assert.equal(sameCatalog(judged, [], await trailerNow(judged)), false, `after: ${ddl}`);
  }
  // The partition attached two levels down changed a member of people's family, not people's own row.
  const judged = await judge(['app2.users']);
  await db.query('DROP TABLE app2.users; CREATE TABLE app2.users (id int, email text, note2 text)');
  assert.equal(sameCatalog(judged, [], await trailerNow(judged)), false, 'dropped and created again: another oid');
});

test('view prints: the check matches only when every view is found with the print the call used, taken when the check was made', () => {
  const prints = new Map([['public.v', 'a'], ['s.w', 'b']]);
  const check = catalogCheck({ relationPrints: new Map(), viewPrints: prints, named: new Set() }, byParts);
  assert.deepEqual(check.values, [[], ['public.v', 's.w'], ['public', 's'], ['v', 'w']]);
  prints.set('public.v', 'later'); // kept as it was when the check was made
  assert.equal(check.same([['v', 'public.v', 'a'], ['v', 's.w', 'b']]), true);
  assert.equal(check.same([['v', 'public.v', 'a2'], ['v', 's.w', 'b']]), false);
  assert.equal(check.same([['v', 'public.v', 'a'], ['v', 's.w', null]]), false);
  assert.equal(check.same([['v', 'public.v', 'a']]), false);
  assert.equal(check.viewsMoved([['v', 'public.v', 'a'], ['v', 's.w', 'b']]), false);
  assert.equal(check.viewsMoved([['v', 'public.v', 'a']]), true);
  // Without views, the trailer asks member prints only (no view part to plan).
  assert.doesNotMatch(catalogCheck({ relationPrints: new Map(), viewPrints: new Map(), named: new Set() }, byParts).text, /pg_rewrite/);
});
