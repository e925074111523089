/**
 * Functions of well-known extensions a write runs without naming them (write-runs.ts,
 * write-reach.ts), through `warden serve` against a real PostgreSQL: uuid-ossp's
 * uuid_generate_v4(), pgcrypto's gen_random_uuid(), crypt(), gen_salt() and digest() as column
 * DEFAULTs, citext's operators in a CHECK and a domain's CHECK were refused under a deny rule on
 * tables unless a grant's `functions:` named them. Now they are trusted, by extension membership
 * and language (C from the extension's own module, or internal), not by name: a lookalike of the
 * same name in another schema, a plpgsql function added to the extension, and a plpgsql overload
 * of an extension function's name (in the same CHECK as the real one) still refuse the write,
 * writing nothing; a deny naming an extension function still refuses it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, vaultDenyPolicy, type SqlWarden } from '../support/sql-warden.js';

const TRUSTED = ['t_uuid', 't_pgcrypto', 't_citext', 't_email'];
const LOOKALIKES = ['t_fake', 't_member', 't_overload'];
const TABLES = [...TRUSTED, ...LOOKALIKES];

const GRANT = vaultDenyPolicy(TABLES);
const NO_UUID = `${GRANT}
  - id: no-uuid
    effect: deny
    tool: query_database
    sql: { functions: [public.uuid_generate_v4] }
`;

let db: TestDatabase;
let w: SqlWarden | undefined;
let noUuid: SqlWarden | undefined;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewreachext' });
  await db.query(`
    CREATE EXTENSION "uuid-ossp" SCHEMA public;
    CREATE EXTENSION pgcrypto SCHEMA public;
    CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
    CREATE TABLE vault (body text);
    CREATE TABLE t_uuid (id uuid DEFAULT public.uuid_generate_v4(), body text);
    CREATE TABLE t_pgcrypto (id uuid DEFAULT public.gen_random_uuid(), pw text DEFAULT public.crypt('pw', public.gen_salt('bf', 4)),
      h bytea DEFAULT public.digest('x', 'sha256'), body text);
    CREATE TABLE t_citext (email public.citext, CONSTRAINT ck CHECK (email <> ''));
    CREATE DOMAIN email AS public.citext CHECK (VALUE ~ '@');
    CREATE TABLE t_email (e public.email);
    -- lookalikes: each writes the vault
    CREATE SCHEMA fake;
    CREATE FUNCTION fake.uuid_generate_v4() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('fake'); RETURN NULL; END $$;
    CREATE TABLE t_fake (id uuid DEFAULT fake.uuid_generate_v4(), body text);
    CREATE FUNCTION public.uuid_member() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('member'); RETURN NULL; END $$;
    ALTER EXTENSION "uuid-ossp" ADD FUNCTION public.uuid_member();
    CREATE TABLE t_member (id uuid DEFAULT public.uuid_member(), body text);
    CREATE FUNCTION public.digest(text) RETURNS bytea IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM public.leak(); RETURN NULL; END $$;
    CREATE FUNCTION public.leak() RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.vault VALUES ('overload'); END $$;
    CREATE TABLE t_overload (c text, CONSTRAINT ck CHECK (public.digest(c, 'sha256') IS NOT NULL OR public.digest(c) IS NULL));
  `);
  await ownTables(db, ['vault', ...TABLES]);
  [w, noUuid] = await Promise.all([startSqlWarden(db, { 'p.yaml': GRANT }), startSqlWarden(db, { 'p.yaml': NO_UUID })]);
});

after(async () => {
  await Promise.all([w?.close(), noUuid?.close()]);
  await db?.drop();
});

const vault = async (): Promise<string[]> => (await db.query('SELECT body FROM vault')).rows.map((r) => String(r.body));

test('DEFAULTs and CHECKs calling uuid-ossp, pgcrypto and citext functions run under a deny rule on tables, no grant naming them', async () => {
  const wrong: string[] = [];
  for (const sql of [
    "INSERT INTO t_uuid (body) VALUES ('a')",
    "INSERT INTO t_pgcrypto (body) VALUES ('a')",
    "INSERT INTO t_citext VALUES ('A@b')",
    "INSERT INTO t_email VALUES ('A@b')",
    "UPDATE t_citext SET email = 'c@d'",
    'UPDATE t_uuid SET id = DEFAULT',
  ]) {
    const r = await w!.query(sql);
    if (r.isError) wrong.push(`${sql} -> ${r.text.slice(0, 500)}`);
  }
  assert.deepEqual(wrong, []);
  const row = (await db.query('SELECT id, pw, h FROM t_pgcrypto')).rows[0] as { id: string; pw: string; h: Buffer };
  assert.match(row.id, /^[0-9a-f-]{36}$/);
  assert.match(row.pw, /^\$2a\$04\$/);
  assert.equal(row.h.length, 32);
  assert.deepEqual(await vault(), []);
});

test('a lookalike is not trusted: another schema, a plpgsql function added to the extension, a plpgsql overload of its name', async () => {
  const wrong: string[] = [];
  for (const [sql, what] of [
    ["INSERT INTO t_fake (body) VALUES ('x')", /column public\.t_fake\.id's DEFAULT.*fake\.uuid_generate_v4/s],
    ["INSERT INTO t_member (body) VALUES ('x')", /column public\.t_member\.id's DEFAULT.*public\.uuid_member/s],
    ["INSERT INTO t_overload VALUES ('x')", /table public\.t_overload's CHECK ck.*public\.digest/s],
  ] as const) {
    const r = await w!.query(sql);
    const ok = r.isError && /^WARDEN_DENIED: deny rules cannot be followed into /.test(r.text) && what.test(r.text) && /no-vault/.test(r.text);
    if (!ok) wrong.push(`${sql} -> ${r.text.slice(0, 500)}`);
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(await vault(), [], 'no lookalike ran');
});

test('a deny naming an extension function still refuses the write', async () => {
  const r = await noUuid!.query("INSERT INTO t_uuid (body) VALUES ('b')");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /no-uuid/);
  assert.equal(Number((await db.query("SELECT count(*) AS n FROM t_uuid WHERE body = 'b'")).rows[0]!.n), 0);
});
