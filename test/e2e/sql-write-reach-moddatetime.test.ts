/**
 * contrib's moddatetime under a deny rule on tables, through `warden serve` against a real
 * PostgreSQL. A table with the usual `BEFORE UPDATE ... EXECUTE FUNCTION moddatetime(updated_at)`
 * trigger was refused under `no-vault` ("deny rules cannot be followed into" its trigger): the
 * function, though a C member of the extension moddatetime from `$libdir/moddatetime` (it sets
 * one column of the row to the time and reads no table), was not among the trusted extensions
 * (write-runs.ts TRUSTED_EXTENSIONS). Now it is, by membership and language as the others, not
 * by name: a PL/pgSQL function named moddatetime in another schema, and one added to the
 * extension, still refuse the write, writing nothing. Trusting it alone would have opened a hole
 * the refusal closed: the column it sets, which the UPDATE does not name, escaped a
 * `write_columns:` deny on it; that column now counts as written (widened-relations.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, vaultDenyPolicy, type SqlWarden } from '../support/sql-warden.js';

const TABLES = ['t_mod', 't_mod2', 't_fake', 't_member'];
const GRANT = vaultDenyPolicy(TABLES);
// A deny on the column moddatetime sets: the trigger writes it though the UPDATE does not name it.
const NO_STAMP = `${GRANT}
  - id: no-stamp
    effect: deny
    tool: query_database
    sql: { write_columns: [public.t_mod2.updated_at] }
`;

let db: TestDatabase;
let w: SqlWarden | undefined;
let stamp: SqlWarden | undefined;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreachmod' });
  await db.query(`
    CREATE EXTENSION moddatetime SCHEMA public;
    CREATE TABLE vault (body text);
    CREATE TABLE t_mod (id int, body text, updated_at timestamp NOT NULL DEFAULT '2000-01-01');
    CREATE TRIGGER t_mod_stamp BEFORE UPDATE ON t_mod FOR EACH ROW EXECUTE FUNCTION public.moddatetime(updated_at);
    CREATE TABLE t_mod2 (id int, body text, updated_at timestamp NOT NULL DEFAULT '2000-01-01');
    CREATE TRIGGER t_mod2_stamp BEFORE UPDATE ON t_mod2 FOR EACH ROW EXECUTE FUNCTION public.moddatetime(updated_at);
    -- lookalikes named moddatetime: each writes the vault
    CREATE SCHEMA fake;
    CREATE FUNCTION fake.moddatetime() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('fake'); RETURN NEW; END $$;
    CREATE TABLE t_fake (id int, body text, updated_at timestamp NOT NULL DEFAULT '2000-01-01');
    CREATE TRIGGER t_fake_stamp BEFORE UPDATE ON t_fake FOR EACH ROW EXECUTE FUNCTION fake.moddatetime(updated_at);
    CREATE SCHEMA member;
    CREATE FUNCTION member.moddatetime() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('member'); RETURN NEW; END $$;
    ALTER EXTENSION moddatetime ADD FUNCTION member.moddatetime();
    CREATE TABLE t_member (id int, body text, updated_at timestamp NOT NULL DEFAULT '2000-01-01');
    CREATE TRIGGER t_member_stamp BEFORE UPDATE ON t_member FOR EACH ROW EXECUTE FUNCTION member.moddatetime(updated_at);
    INSERT INTO t_mod VALUES (1, 'a'); INSERT INTO t_mod2 VALUES (1, 'a'); INSERT INTO t_fake VALUES (1, 'a'); INSERT INTO t_member VALUES (1, 'a');
  `);
  await ownTables(db, ['vault', ...TABLES]);
  [w, stamp] = await Promise.all([startSqlWarden(db, { 'p.yaml': GRANT }), startSqlWarden(db, { 'p.yaml': NO_STAMP })]);
});

after(async () => {
  await Promise.all([w?.close(), stamp?.close()]);
  await db?.drop();
});

const vault = async (): Promise<string[]> => (await db.query('SELECT body FROM vault')).rows.map((r) => String(r.body));

test("contrib's moddatetime trigger runs under a deny rule on tables, no grant naming it, and stamps the row", async () => {
  const r = await w!.query("UPDATE t_mod SET body = 'b' WHERE id = 1");
  assert.equal(r.isError, false, r.text.slice(0, 500));
  const row = (await db.query('SELECT body, updated_at FROM t_mod')).rows[0] as { body: string; updated_at: Date };
  assert.equal(row.body, 'b');
  assert.ok(row.updated_at.getFullYear() > 2000, String(row.updated_at));
  assert.deepEqual(await vault(), []);
});

test('a PL/pgSQL function named moddatetime stays untrusted: in another schema, or added to the extension', async () => {
  const wrong: string[] = [];
  for (const [sql, fn] of [
    ["UPDATE t_fake SET body = 'x' WHERE id = 1", /fake\.moddatetime/],
    ["UPDATE t_member SET body = 'x' WHERE id = 1", /member\.moddatetime/],
  ] as const) {
    const r = await w!.query(sql);
    const ok = r.isError && /^WARDEN_DENIED: deny rules cannot be followed into /.test(r.text) && fn.test(r.text) && /no-vault/.test(r.text);
    if (!ok) wrong.push(`${sql} -> ${r.text.slice(0, 500)}`);
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(await vault(), [], 'no lookalike ran');
  assert.deepEqual((await db.query("SELECT count(*)::int AS n FROM t_fake WHERE body = 'x'")).rows[0], { n: 0 });
});

test('the column moddatetime sets counts as written: a write_columns deny on it refuses the UPDATE, one on another table does not', async () => {
  const r = await stamp!.query("UPDATE t_mod2 SET body = 'y' WHERE id = 1");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED/);
  assert.match(r.text, /no-stamp/);
  assert.deepEqual((await db.query('SELECT body FROM t_mod2')).rows, [{ body: 'a' }]);
  const other = await stamp!.query("UPDATE t_mod SET body = 'c' WHERE id = 1");
  assert.equal(other.isError, false, other.text.slice(0, 500));
});
