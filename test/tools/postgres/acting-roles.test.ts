/**
 * ACTORS_SQL (tools/postgres/acting-roles.ts) on the shapes that made its foreign key walk slow:
 * a chain of 200 tables linked by ON DELETE CASCADE (code every 20th table) and hubs each
 * referenced by 150 tables (ON DELETE SET NULL), with a partitioned table among them whose
 * partition holds the code. The result, not the time: the owner at depth 200, of the one coded
 * table of a fan and of the coded partition are found, and no owner of a table without code, nor
 * any owner for a login that may write none of the roots. A table whose column is of a type
 * user code checks (a domain's CHECK or DEFAULT naming a user function, through a domain over it,
 * an array or a composite) holds code too; one of a domain over an enum does not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { ACTORS_SQL } from '../../../tools/postgres/acting-roles.js';

let db: TestDatabase;
const tag = randomBytes(4).toString('hex');
const [deepOwner, fanOwner, calmOwner, partOwner, idle] = ['deep', 'fan', 'calm', 'part', 'idle'].map((n) => `${n}_${tag}`) as [string, string, string, string, string];
/** Owners of tables with a column of a type whose values user code checks (a domain's CHECK or DEFAULT). */
const [domOwner, arrOwner, compOwner, dfltOwner] = ['dom', 'arr', 'comp', 'dflt'].map((n) => `${n}_${tag}`) as [string, string, string, string];
const typed = [domOwner, arrOwner, compOwner, dfltOwner];
let idleUrl = '';

before(async () => {
  db = await createTestDatabase({ prefix: 'actingroles' });
  const ddl = [`CREATE ROLE ${deepOwner} NOLOGIN; CREATE ROLE ${fanOwner} NOLOGIN; CREATE ROLE ${calmOwner} NOLOGIN; CREATE ROLE ${partOwner} NOLOGIN;
    CREATE FUNCTION public.hook() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
    CREATE FUNCTION public.pick() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
    CREATE TABLE public.c0 (id int PRIMARY KEY)`];
  for (let i = 1; i <= 200; i++) {
    ddl.push(`CREATE TABLE public.c${i} (id int PRIMARY KEY, p int REFERENCES public.c${i - 1} ON DELETE CASCADE)`);
    if (i % 20 === 0) ddl.push(`CREATE TRIGGER h BEFORE DELETE ON public.c${i} FOR EACH ROW EXECUTE FUNCTION public.hook()`);
  }
  ddl.push(`ALTER TABLE public.c200 OWNER TO ${deepOwner}`);
  for (let h = 0; h < 4; h++) ddl.push(`CREATE TABLE public.hub${h} (id int PRIMARY KEY)`);
  for (let h = 0; h < 4; h++) {
    for (let j = 0; j < 150; j++) {
      ddl.push(`CREATE TABLE public.f${h}_${j} (id int PRIMARY KEY, p int REFERENCES public.hub${h} ON DELETE SET NULL, q int REFERENCES public.hub${(h + 1) % 4} ON DELETE CASCADE)`);
      ddl.push(`ALTER TABLE public.f${h}_${j} OWNER TO ${calmOwner}`);
    }
  }
  // hub0's fan: one table with a default naming a user function (its SET NULL evaluates no default, its neighbour's CASCADE from hub3 does).
  ddl.push(`ALTER TABLE public.f0_77 ALTER COLUMN id SET DEFAULT public.pick(); ALTER TABLE public.f0_77 OWNER TO ${fanOwner}`);
  ddl.push(`CREATE TABLE public.parts (k int, p int REFERENCES public.hub2 ON DELETE CASCADE) PARTITION BY RANGE (k);
    CREATE TABLE public.parts_1 PARTITION OF public.parts FOR VALUES FROM (0) TO (10);
    CREATE TRIGGER h BEFORE DELETE ON public.parts_1 FOR EACH ROW EXECUTE FUNCTION public.hook();
    ALTER TABLE public.parts_1 OWNER TO ${partOwner}`);
  // hubd's fan (SET NULL): a column of a domain whose CHECK calls a user function, an array of a
  // domain over it, a composite holding it, a domain whose DEFAULT calls one; and a domain over an
  // enum (no code: its table, owned by calm, is no actor).
  ddl.push(`CREATE ROLE ${domOwner} NOLOGIN; CREATE ROLE ${arrOwner} NOLOGIN; CREATE ROLE ${compOwner} NOLOGIN; CREATE ROLE ${dfltOwner} NOLOGIN;
    CREATE FUNCTION public.okay(text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
    CREATE DOMAIN public.checked AS text CHECK (public.okay(VALUE));
    CREATE DOMAIN public.checked_over AS public.checked;
    CREATE TYPE public.boxed AS (inner_value public.checked);
    CREATE DOMAIN public.defaulted AS int DEFAULT public.pick();
    CREATE TYPE public.mood AS ENUM ('calm');
    CREATE DOMAIN public.mood_d AS public.mood;
    CREATE TABLE public.hubd (id int PRIMARY KEY);
    CREATE TABLE public.dom1 (id int PRIMARY KEY, p int REFERENCES public.hubd ON DELETE SET NULL, v public.checked);
    CREATE TABLE public.arr1 (id int PRIMARY KEY, p int REFERENCES public.hubd ON DELETE SET NULL, v public.checked_over[]);
    CREATE TABLE public.comp1 (id int PRIMARY KEY, p int REFERENCES public.hubd ON DELETE SET NULL, v public.boxed);
    CREATE TABLE public.dflt1 (id int PRIMARY KEY, p int REFERENCES public.hubd ON DELETE SET NULL, v public.defaulted);
    CREATE TABLE public.enum1 (id int PRIMARY KEY, p int REFERENCES public.hubd ON DELETE SET NULL, v public.mood_d);
    ALTER TABLE public.dom1 OWNER TO ${domOwner}; ALTER TABLE public.arr1 OWNER TO ${arrOwner}; ALTER TABLE public.comp1 OWNER TO ${compOwner};
    ALTER TABLE public.dflt1 OWNER TO ${dfltOwner}; ALTER TABLE public.enum1 OWNER TO ${calmOwner}`);
  for (let k = 0; k < ddl.length; k += 100) await db.query(ddl.slice(k, k + 100).join(';\n'));
  await db.query(`GRANT USAGE ON SCHEMA public TO ${pg.escapeIdentifier(db.role)}; GRANT SELECT, DELETE ON public.c0, public.hub3 TO ${pg.escapeIdentifier(db.role)}`);
  const password = randomBytes(12).toString('hex');
  await db.query(`CREATE ROLE ${idle} LOGIN PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.dbName)} TO ${idle}; GRANT SELECT ON public.c0, public.hub3 TO ${idle}`);
  const u = new URL(db.url);
  u.username = idle;
  u.password = password;
  idleUrl = u.toString();
});

after(async () => {
  const roles = [deepOwner, fanOwner, calmOwner, partOwner, idle, ...typed].join(', ');
  await db?.query(`DROP OWNED BY ${roles}; DROP ROLE IF EXISTS ${roles}`).catch(() => undefined);
  await db?.drop();
});

/** ACTORS_SQL as the login at `url`, as role name to via. */
async function actors(url: string): Promise<Map<string, string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET jit = off'); // as storeSafePool runs it
    const r = await c.query<{ name: string; via: string }>(`SELECT a.oid::pg_catalog.regrole::text AS name, a.via FROM (${ACTORS_SQL}) a`);
    return new Map(r.rows.map((x) => [x.name, x.via]));
  } finally {
    await c.end();
  }
}

test('a delete at the head of a 200-table cascade chain reaches the coded table at depth 200, and each fan reaches its coded table and partition', async () => {
  const got = await actors(db.url);
  assert.equal(got.get(db.role), '', 'its own role');
  assert.equal(got.get(deepOwner), 'cascade public.c200', 'the owner at depth 200');
  // A delete from hub3 reaches f3_* (SET NULL) and f2_* (CASCADE), none with code; f0_77 hangs from hub0 and hub1 only.
  assert.equal(got.has(fanOwner), false, `f0_77 is not reached from c0 or hub3: ${JSON.stringify([...got])}`);
  assert.equal(got.has(calmOwner), false, 'a table without code of its own is no actor');
  assert.equal(got.has(partOwner), false, 'hub2 is not written');
});

test('a login that may delete hub0 reaches the one coded table of its fan (SET NULL) and, from hub2, the coded partition', async () => {
  await db.query(`GRANT DELETE ON public.hub0, public.hub2 TO ${idle}`);
  try {
    const got = await actors(idleUrl);
    assert.equal(got.get(fanOwner), 'cascade public.f0_77');
    assert.match(got.get(partOwner) ?? '', /^cascade public\.parts(_1)?$/);
    assert.equal(got.has(calmOwner), false, 'a table without code of its own is no actor');
    assert.equal(got.has(deepOwner), false, 'c0 is not written');
  } finally {
    await db.query(`REVOKE DELETE ON public.hub0, public.hub2 FROM ${idle}`);
  }
});

test('a login that may delete hubd reaches each table with a column of a type user code checks: a domain CHECK or DEFAULT, over a domain, in an array or composite', async () => {
  await db.query(`GRANT DELETE ON public.hubd TO ${idle}`);
  try {
    const got = await actors(idleUrl);
    assert.equal(got.get(domOwner), 'cascade public.dom1', 'a domain whose CHECK calls a user function');
    assert.equal(got.get(arrOwner), 'cascade public.arr1', 'an array of a domain over it');
    assert.equal(got.get(compOwner), 'cascade public.comp1', 'a composite type holding it');
    assert.equal(got.get(dfltOwner), 'cascade public.dflt1', 'a domain whose DEFAULT calls a user function');
    assert.equal(got.has(calmOwner), false, `a domain over an enum runs no code: ${JSON.stringify([...got])}`);
  } finally {
    await db.query(`REVOKE DELETE ON public.hubd FROM ${idle}`);
  }
});

test('a login that may only read the roots acts as no owner', async () => {
  const got = await actors(idleUrl);
  assert.deepEqual([...got.keys()], [idle]);
});
