/**
 * SQL analysis cost bounded by what PostgreSQL would run: a `*` over a CTE or subquery copies
 * its columns, so a chain of `SELECT * FROM c x, c y` doubles them per level (2^16 from a few
 * hundred characters, seconds of one event loop and hundreds of MB for a statement inside the
 * input cap). PostgreSQL refuses a target list of more than 1664 entries; so does the analysis,
 * with a coded error, and a query within the limit still analyses (and runs on a real server).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ prefix: 'amplify' });
});
after(async () => {
  await db?.drop();
});

/** `c0` has two columns; `c{k}` has 2^(k+1), each level a self cross join read by `*`. */
function doubling(levels: number, prefix = 'c', tail = `SELECT * FROM ${prefix}${levels}`): string {
  const ctes = [`${prefix}0 AS (SELECT 1 AS a, 2 AS b)`];
  for (let i = 0; i < levels; i++) ctes.push(`${prefix}${i + 1} AS (SELECT * FROM ${prefix}${i} x, ${prefix}${i} y)`);
  return `WITH ${ctes.join(', ')} ${tail}`;
}

const targetList = (e: unknown): boolean => {
  assert.ok(e instanceof WardenError, String(e));
  assert.equal(e.code, ErrorCode.PARSE);
  assert.match(e.message, /more than 1664 columns/);
  return true;
};

test('a star doubled past 1664 columns is refused, as PostgreSQL refuses it', async () => {
  const sql = doubling(10); // 2048 columns from 400 characters
  assert.throws(() => analyzeSql(sql), targetList);
  await assert.rejects(db.query(sql), /target lists can have at most 1664 entries/);
  // Deeper chains stop at the same level: no 2^16-column lineage is ever built.
  assert.throws(() => analyzeSql(doubling(15)), targetList);
  // The stars need not reach the top level: a CTE body alone is a target list too.
  assert.throws(() => analyzeSql(doubling(12, 'c', 'SELECT count(*) FROM c12')), targetList);
});

test('many doubling chains in one statement are refused at the first, not analysed one by one', () => {
  const chains = Array.from({ length: 30 }, (_, m) => doubling(15, `q${m}_`, '').slice('WITH '.length).trim());
  const sql = `WITH ${chains.join(', ')} ${Array.from({ length: 30 }, (_, m) => `SELECT * FROM q${m}_15`).join(' UNION ALL ')}`;
  assert.ok(sql.length < 64_000);
  assert.throws(() => analyzeSql(sql), targetList);
});

test('neighbour: a star of 1024 columns within the limit analyses and runs', async () => {
  const sql = doubling(9);
  const facts = analyzeSql(sql);
  assert.equal(facts.output.length, 1024);
  assert.equal(facts.readOnly, true);
  const res = await db.query(sql);
  assert.equal(res.fields.length, 1024);
  // A star over a real table counts as one entry whatever its width.
  assert.equal(analyzeSql('SELECT * FROM users u, orders o').output.length, 2);
});
