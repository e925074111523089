/**
 * A view redefined out of band while a Warden holds its lineage in its catalog cache (up to
 * 60 s), end to end against a real PostgreSQL. A result field's metadata names the view, and
 * masking follows the view's cached definition to the base columns; redefined by an admin, or
 * through another Warden replica (whose write forgets only its own caches), the view's `note`
 * now carries the masked `email`. The read (or a write's RETURNING) checks, after its statement,
 * that the definitions it was judged by are still the catalog's (view-prints.ts): a read is
 * judged anew once and comes back masked; a write is refused before COMMIT, nothing committed.
 * A plain table read under masks, and a read of an unchanged view, answer as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, ranOk, rowsOf, sqlConfig, startSqlWarden, type SqlResult, type SqlWarden } from '../support/sql-warden.js';

const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';

const CONFIG = sqlConfig('agent', ['analysts'], '10s');
const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: redact }
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, update, create]
      read: [public.users, public.v, public.va, public.vw, public.vo, public.vn, public.vs]
      write: [public.users, public.v, public.va, public.vw, public.vo, public.vn, public.vs]
`;
const PLAIN = 'SELECT id, note FROM public.users';
const LEAKY = 'SELECT id, email AS note FROM public.users';

let db: TestDatabase;
let w: SqlWarden;
/** A second Warden on the same database (a replica): its catalog cache is its own. */
let replica: SqlWarden;
const noLeak = noLeakOf([CAROL, DAVE]);
const read = (sql: string): Promise<SqlResult> => w.query(sql);

before(async () => {
  db = await createTestDatabase({ prefix: 'e2evdef' });
  await db.query(`CREATE TABLE public.users (id int PRIMARY KEY, email text, note text);
    INSERT INTO public.users VALUES (1, '${CAROL}', 'n1'), (2, '${DAVE}', 'n2')`);
  for (const v of ['v', 'va', 'vw', 'vo', 'vs']) await db.query(`CREATE VIEW public.${v} AS ${PLAIN}`);
  await db.query('CREATE VIEW public.vn AS SELECT id, note FROM public.v');
  for (const v of ['v', 'va', 'vw', 'vo', 'vn', 'vs']) await db.query(`ALTER VIEW public.${v} OWNER TO ${db.role}`);
  await db.query(`GRANT CREATE ON SCHEMA public TO ${db.role}`);
  await ownTables(db, ['users']);
  [w, replica] = await Promise.all([startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG), startSqlWarden(db, { 'p.yaml': POLICY }, CONFIG)]);
});

after(async () => {
  await w?.close();
  await replica?.close();
  await db?.drop();
});

describe('a view redefined after Warden cached its lineage', () => {
  test('redefined through another Warden replica: the next read through the first is masked', async () => {
    const warm = await read('SELECT note FROM public.v ORDER BY id');
    ranOk(warm, 'the read that caches the view');
    assert.deepEqual(rowsOf(warm), [['n1'], ['n2']]);
    ranOk(await replica.query(`CREATE OR REPLACE VIEW public.v AS ${LEAKY}`), 'the view redefined on the replica');
    const r = await read('SELECT note FROM public.v ORDER BY id');
    noLeak(r, 'the read after the redefinition');
    ranOk(r, 'the read after the redefinition (judged anew)');
    // Judged anew: note is users.email now, masked.
    assert.equal(rowsOf(r).length, 2);
    assert.notDeepEqual(rowsOf(r), [['n1'], ['n2']]);
    ranOk(await replica.query(`CREATE OR REPLACE VIEW public.v AS ${PLAIN}`), 'the view as it was');
  });

  test('redefined by an admin: the next read is masked', async () => {
    ranOk(await read('SELECT note FROM public.va ORDER BY id'), 'the read that caches the view');
    await db.query(`CREATE OR REPLACE VIEW public.va AS ${LEAKY}`);
    try {
      const r = await read('SELECT note FROM public.va ORDER BY id');
      noLeak(r, 'the read after the redefinition');
      ranOk(r, 'the read after the redefinition (judged anew)');
      assert.equal(rowsOf(r).length, 2);
    } finally {
      // Put back as it was: the next read of it (the last test) finds its cached lineage stale again.
      await db.query(`CREATE OR REPLACE VIEW public.va AS ${PLAIN}`);
    }
  });

  test('a view of a view, the inner one redefined by an admin: masked', async () => {
    ranOk(await read('SELECT note FROM public.vn ORDER BY id'), 'the read that caches both views');
    await db.query(`CREATE OR REPLACE VIEW public.v AS ${LEAKY}`);
    try {
      const r = await read('SELECT note FROM public.vn ORDER BY id');
      noLeak(r, 'the read after the redefinition');
      ranOk(r, 'the read after the redefinition (judged anew)');
    } finally {
      await db.query(`CREATE OR REPLACE VIEW public.v AS ${PLAIN}`);
    }
  });

  test('a column renamed out of band is judged anew too', async () => {
    ranOk(await read('SELECT note FROM public.vo ORDER BY id'), 'the read that caches the view');
    await db.query(`CREATE OR REPLACE VIEW public.vo AS SELECT id, note, email FROM public.users`);
    await db.query('ALTER VIEW public.vo RENAME COLUMN note TO x; ALTER VIEW public.vo RENAME COLUMN email TO note');
    const r = await read('SELECT note FROM public.vo ORDER BY id');
    noLeak(r, 'the read after the rename');
    ranOk(r, 'the read after the rename');
  });

  test('a write whose RETURNING reads the redefined view: refused before COMMIT, nothing committed', async () => {
    ranOk(await read('SELECT note FROM public.vw ORDER BY id'), 'the read that caches the view');
    await db.query(`CREATE OR REPLACE VIEW public.vw AS SELECT id, email AS note, note AS other FROM public.users`);
    const r = await read(`UPDATE public.vw SET id = id WHERE id = 1 RETURNING note`);
    noLeak(r, 'the write after the redefinition');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_DENIED: .*view/, r.text);
    // Asked again, it is judged anew: note is users.email, masked.
    const again = await read(`UPDATE public.vw SET id = id WHERE id = 1 RETURNING note`);
    noLeak(again, 'the write asked again');
    ranOk(again, 'the write asked again');
  });

  test('a write storing a value read through the redefined view: refused before COMMIT, nothing committed', async () => {
    const copy = 'UPDATE public.users SET note = (SELECT s.note FROM public.vs s WHERE s.id = 2) WHERE id = 1';
    ranOk(await read('SELECT note FROM public.vs ORDER BY id'), 'the read that caches the view');
    await db.query(`CREATE OR REPLACE VIEW public.vs AS ${LEAKY}`);
    const r = await read(copy);
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_DENIED: /, r.text);
    const notes = (await db.query('SELECT note FROM public.users ORDER BY id')).rows.map((x) => (x as { note: string }).note);
    assert.deepEqual(notes, ['n1', 'n2'], 'nothing committed');
    // Asked again, judged anew: the value stored is a masked column's, refused before anything runs.
    const again = await read(copy);
    assert.equal(again.isError, true, again.text.slice(0, 300));
    assert.match(again.text, /^WARDEN_DENIED: .*public\.users\.email/, again.text);
  });

  test('a read of an unchanged view, and a plain table read, answer masked as before', async () => {
    for (let i = 0; i < 2; i++) {
      const v = await read('SELECT id, note FROM public.va ORDER BY id');
      ranOk(v, 'the unchanged view');
      assert.deepEqual(rowsOf(v), [[1, 'n1'], [2, 'n2']]);
      const t = await read('SELECT id, email, note FROM public.users ORDER BY id');
      noLeak(t, 'the table read');
      ranOk(t, 'the table read');
      assert.deepEqual(rowsOf(t).map((row) => [row[0], row[2]]), [[1, 'n1'], [2, 'n2']]);
    }
  });
});
