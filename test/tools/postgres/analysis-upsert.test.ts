/**
 * INSERT ... ON CONFLICT (analysis/upsert.ts): the forms node-sql-parser reads are understood,
 * every other shape stays refused (WARDEN_PARSE). DO UPDATE counts as an UPDATE of the target;
 * EXCLUDED carries what the INSERT stores, never a table read.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';
const cols = (xs: readonly { table: string; column: string }[]): string[] => xs.map((c) => `${c.table}.${c.column}`).sort();
const stored = (sql: string): [string, string[], boolean][] =>
  analyzeSql(sql).stored.map((s) => [`${s.table}.${s.column}`, cols(s.sources), s.derived]);

describe('INSERT ... ON CONFLICT facts', () => {
  test('DO NOTHING: an insert only; the conflict target columns are reads of the target', () => {
    const f = analyzeSql("INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING");
    assert.deepEqual(f.statements, ['insert']);
    assert.equal(f.topLevel, 'insert');
    assert.deepEqual(f.writes, ['public.users']);
    assert.deepEqual(f.reads, []);
    assert.deepEqual(cols(f.readColumns), ['public.users.id']);
    assert.equal(f.readOnly, false);
    assert.deepEqual(analyzeSql("INSERT INTO users (id) VALUES (1) ON CONFLICT DO NOTHING").statements, ['insert']);
  });

  test('DO UPDATE: insert and update of the target; SET columns are written, SET/WHERE columns read', () => {
    const f = analyzeSql('INSERT INTO public.users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name, visits = users.visits + 1 WHERE users.active');
    assert.deepEqual(f.statements, ['insert', 'update']);
    assert.equal(f.topLevel, 'insert');
    assert.deepEqual(f.writes, ['public.users']);
    assert.deepEqual(f.reads, []);
    assert.deepEqual(cols(f.readColumns), ['public.users.active', 'public.users.id', 'public.users.visits']);
    // users.visits is qualified: the executor checks it exists; EXCLUDED is no table.
    assert.deepEqual(cols(f.qualifiedColumns), ['public.users.active', 'public.users.visits']);
    assert.deepEqual(stored('INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET name = users.name || \'x\''), [
      ['public.users.name', ['public.users.name'], true],
    ]);
  });

  test('EXCLUDED.col carries the lineage of what the INSERT stores into col', () => {
    assert.deepEqual(stored('INSERT INTO notes (id, body) SELECT id, email FROM users ON CONFLICT (id) DO UPDATE SET title = excluded.body'), [
      ['public.notes.id', ['public.users.id'], false],
      ['public.notes.body', ['public.users.email'], false],
      ['public.notes.title', ['public.users.email'], false],
    ]);
    assert.deepEqual(stored('INSERT INTO notes (id, body) VALUES (1, (SELECT ssn FROM users LIMIT 1)), (2, \'x\') ON CONFLICT (id) DO UPDATE SET title = lower(excluded.body)').at(-1), [
      'public.notes.title', ['public.users.ssn'], true,
    ]);
    // A constant proposed value carries nothing.
    assert.deepEqual(stored("INSERT INTO notes (id, body) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET title = excluded.body"), []);
    // The whole proposed row (or a column of notes named excluded), and a bare name (the
    // target's column, or EXCLUDED's: analysis has no catalog, so both count).
    assert.deepEqual(stored('INSERT INTO notes (id, body) SELECT id, email FROM users ON CONFLICT (id) DO UPDATE SET title = excluded::text').at(-1)?.[1], ['public.notes.excluded', 'public.users.email', 'public.users.id']);
    assert.deepEqual(stored('INSERT INTO notes (id, body) SELECT id, email FROM users ON CONFLICT (id) DO UPDATE SET title = body').at(-1)?.[1], ['public.notes.body', 'public.users.email']);
  });

  test('EXCLUDED is not a read of any table, and the INSERT query does not see the target', () => {
    const f = analyzeSql('INSERT INTO notes (id, body) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET body = excluded.body WHERE excluded.id > 0');
    assert.deepEqual(f.reads, []);
    assert.deepEqual(cols(f.readColumns), ['public.notes.id']);
    assert.deepEqual(cols(f.qualifiedColumns), []);
  });

  test('subqueries in SET and WHERE are reads, correlated to the target and EXCLUDED', () => {
    const f = analyzeSql('INSERT INTO notes (id, body) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET body = (SELECT email FROM users u WHERE u.id = excluded.id) WHERE notes.id IN (SELECT id FROM orders)');
    assert.deepEqual(f.reads, ['public.orders', 'public.users']);
    assert.deepEqual(stored('INSERT INTO notes (id, body) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET body = (SELECT u.email FROM users u WHERE u.id = excluded.id)'), [
      ['public.notes.body', ['public.users.email'], false],
    ]);
    assert.ok(analyzeSql("INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = pg_sleep(1)::text").functions.includes('pg_sleep'));
  });

  test('in a data-modifying CTE, the upsert counts as insert and update too', () => {
    const f = analyzeSql('WITH m AS (INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = 1 RETURNING id) SELECT * FROM m');
    assert.deepEqual(f.statements, ['insert', 'select', 'update']);
    assert.ok(f.constructs.includes('data_modifying_cte'));
    assert.deepEqual(f.writes, ['public.users']);
  });

  test('SET col = DEFAULT stores nothing from a column; a quoted "default" is a column', () => {
    assert.deepEqual(stored('INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = DEFAULT'), []);
    assert.deepEqual(stored('INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = default'), []);
    assert.deepEqual(stored('INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = "default"'), [['public.notes.body', ['public.notes.default'], false]]);
    assert.deepEqual(stored('INSERT INTO notes (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET body = "DEFAULT"'), [['public.notes.body', ['public.notes.DEFAULT'], false]]);
  });

  test('RETURNING is the target row, as for INSERT and UPDATE; EXCLUDED is not visible there', () => {
    const f = analyzeSql('INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING id, email');
    assert.deepEqual(f.output.map((o) => [o.name, cols(o.sources)]), [['id', ['public.users.id']], ['email', ['public.users.email']]]);
    assert.throws(() => analyzeSql('INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = 1 RETURNING excluded.id'), isParse);
  });

  test('shapes outside the understood forms stay refused', () => {
    for (const sql of [
      'INSERT INTO users (id) VALUES (1) ON CONFLICT ON CONSTRAINT users_pkey DO NOTHING',
      'INSERT INTO users (id) VALUES (1) ON CONFLICT (id) WHERE active DO NOTHING',
      'INSERT INTO users (id) VALUES (1) ON CONFLICT (lower(name)) DO NOTHING',
      'INSERT INTO users (id) VALUES (1) ON CONFLICT (users.id) DO NOTHING',
      'INSERT INTO users (id) VALUES (1) ON CONFLICT (id COLLATE "C") DO NOTHING',
      'INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET (name, email) = (excluded.name, 1)',
      'INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET users.name = 1',
      'INSERT INTO users (id, name) VALUES (1, 2) ON CONFLICT DO UPDATE SET name = 1',
      'INSERT INTO users VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
      'INSERT INTO users AS u (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = 1',
      // EXCLUDED of a column the INSERT does not list (its default, or a trigger's value).
      'INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = excluded.email',
      'INSERT INTO excluded (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = 1',
      'WITH x AS (SELECT 1) INSERT INTO users (id) SELECT * FROM x ON CONFLICT DO NOTHING',
    ]) {
      assert.throws(() => analyzeSql(sql), isParse, sql);
    }
  });
});
