/**
 * UserCastCatalog (user-casts.ts) against a real PostgreSQL, below the tool: a cast between two
 * built-in types with a user function refuses every statement while it exists; the answer that
 * a relation is safe is cached for the TTL only (a cast created later is seen once it expires,
 * and at once for a relation not yet cached), a cache hit costs no round trip; and a facts name
 * whose schema holds a '.' (`"we.ird".t`, spelled we.ird.t) is looked up under every split
 * rather than missed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { nameSplits, UserCastCatalog } from '../../../tools/postgres/user-casts.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

let db: TestDatabase;
let queries = 0;
const ask = async (text: string, values: unknown[]) => {
  queries++;
  return db.query(text, values);
};

function refusedWith(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof WardenError, String(e));
    assert.equal(e.code, ErrorCode.PARSE);
    assert.match(e.message, re);
    return true;
  };
}

before(async () => {
  db = await createTestDatabase({ prefix: 'castcache' });
  await db.query(`
    CREATE TABLE plain (id int, p point);
    CREATE TABLE other (id int);
    CREATE TYPE public.mood AS ENUM ('ok');
    CREATE SCHEMA "we.ird";
    CREATE TABLE "we.ird".t (mood public.mood);
    CREATE FUNCTION public.mood_text(public.mood) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''x''';
    CREATE CAST (public.mood AS text) WITH FUNCTION public.mood_text(public.mood);
    CREATE FUNCTION public.point_text(point) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''x''';
  `);
});

after(async () => {
  await db?.drop();
});

test('a relation whose schema holds a dot is looked up under every split of its facts name', async () => {
  assert.deepEqual(nameSplits('we.ird.t'), [['we', 'ird.t'], ['we.ird', 't']]);
  assert.throws(() => nameSplits('nodot'), (e: unknown) => e instanceof WardenError && e.code === ErrorCode.PARSE);
  const casts = new UserCastCatalog(ask, 60_000);
  await assert.rejects(async () => casts.check(['we.ird.t']), refusedWith(/cast from mood to text runs public\.mood_text, .* on the values of we\.ird\.t/));
});

test('a built-in-to-built-in user cast refuses every statement; a safe answer is cached for the TTL, no longer', async () => {
  // A clock of the test's own: the TTL's window is judged without waiting on a loaded machine.
  const ttl = 60_000;
  let clock = 1_000_000;
  const casts = new UserCastCatalog(ask, ttl, () => clock);
  queries = 0;
  await casts.check(['public.plain']);
  const first = queries;
  assert.ok(first >= 1, 'the first check asks the catalog');
  await casts.check(['public.plain']);
  assert.equal(queries, first, 'a cache hit asks nothing');
  await db.query('CREATE CAST (point AS text) WITH FUNCTION public.point_text(point)');
  try {
    // Within the TTL the cached answer stands (the documented window) ...
    await casts.check(['public.plain']);
    assert.equal(queries, first, 'still cached within the TTL');
    // ... a relation not yet cached is asked, and the cast between built-in types refuses it ...
    await assert.rejects(async () => casts.check(['public.other']), refusedWith(/cast from point to text runs public\.point_text, .* in any statement/));
    // ... and once the TTL has passed, so is the cached one, and a statement naming no relation.
    clock += ttl + 1;
    await assert.rejects(async () => casts.check(['public.plain']), refusedWith(/in any statement/));
    await assert.rejects(async () => casts.check([]), refusedWith(/in any statement/));
  } finally {
    await db.query('DROP CAST (point AS text)');
  }
  // Refusals are not cached: once the cast is gone the statement runs.
  await casts.check(['public.plain', 'public.other']);
});

test('the check stays below PostgreSQL\'s JIT threshold: no plan of its queries costs jit_above_cost', async () => {
  // A plan above jit_above_cost (100,000 by default) is compiled first: ~0.4 s on every check,
  // which stalled 16 concurrent first calls for 4 s (the load test's replicas never warmed up).
  const threshold = Number(((await db.query('SHOW jit_above_cost')).rows[0] as { jit_above_cost: string }).jit_above_cost);
  const texts: { text: string; values: unknown[] }[] = [];
  const casts = new UserCastCatalog(async (text, values) => (texts.push({ text, values: values ?? [] }), db.query(text, values as unknown[])), 60_000);
  await assert.rejects(async () => casts.check(['public.plain', 'we.ird.t'], ['public.mood_text']));
  assert.ok(texts.length >= 2, 'both the pre-check and the detailed query ran (a user cast exists here)');
  for (const q of texts) {
    const plan = ((await db.query(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values)).rows[0] as { 'QUERY PLAN': [{ Plan: { 'Total Cost': number } }] })['QUERY PLAN'];
    assert.ok(plan[0].Plan['Total Cost'] < threshold, `estimated cost ${plan[0].Plan['Total Cost']} below ${threshold}`);
  }
});
