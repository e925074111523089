/**
 * Differential test of the SQL analysis against PostgreSQL's own planner. A few thousand SELECTs
 * from a seeded grammar (test/support/sql-grammar.ts), and the SQL attack corpus with mutations,
 * are analysed (analyzeSql) and judged by read grants; for each one a grant allows, EXPLAIN
 * (VERBOSE, FORMAT JSON) in a real PostgreSQL lists every relation the plan touches (init plans,
 * subplans, CTEs, views expanded to their base tables). A relation the plan reads that is not
 * reachable from a relation the facts name (a view's base tables, a parent's children) is a
 * policy bypass. A statement PostgreSQL refuses runs nothing and is not a finding.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { analyzeSql, type SqlFacts } from '../../../tools/postgres/analysis/index.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { corpusDir } from '../../support/repo.js';
import { FORMS, SqlGrammar } from '../../support/sql-grammar.js';

const SEED = 20261201;
const GENERATED = 2500;
const FUNCTIONS = ['@safe-read', 'generate_series', 'unnest', 'bernoulli', 'system', 'array_agg', 'string_agg'];
const grant = (read: string[]) => sqlCondition.compile({ statements: ['select'], read, functions: FUNCTIONS }, { id: `read-${read.join('-')}`, effect: 'allow' });
const GRANTS = [grant(['public.a']), grant(['public.a', 'public.b']), grant(['public.users', 'public.orders'])];
/** The schema's own functions; an inlined SQL function's body shows in a plan, and no grant here names one. */
const USER_FUNCTIONS = /^(public\.)?secret_(rows|count)$/;
const call = { tool: 'query_database', connection: 'db', args: {} };

const SCHEMA = `
  CREATE TABLE a (id int PRIMARY KEY, x text);
  CREATE TABLE b (id int, x text);
  CREATE TABLE secret (id int, x text);
  CREATE TABLE "A" (id int, x text);
  CREATE TABLE "B" (id int, x text);
  CREATE SCHEMA s;
  CREATE TABLE s.a (id int, x text);
  CREATE TABLE s.b (id int, x text);
  CREATE VIEW v_secret AS SELECT id, x FROM secret;
  CREATE MATERIALIZED VIEW mv_secret AS SELECT id, x FROM secret;
  CREATE FUNCTION secret_rows() RETURNS SETOF secret LANGUAGE sql STABLE AS 'SELECT * FROM secret';
  CREATE FUNCTION secret_count(int) RETURNS int LANGUAGE sql STABLE AS 'SELECT count(*)::int FROM secret WHERE id > $1';
  CREATE TABLE parted (id int, x text) PARTITION BY RANGE (id);
  CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
  CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
  CREATE TABLE base (id int, x text);
  CREATE TABLE kid (extra int) INHERITS (base);
  CREATE SEQUENCE seq;
  CREATE TYPE pair AS (id int, x text);
  CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
  CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric, created timestamptz);
  CREATE TABLE secrets (id serial PRIMARY KEY, user_id int, value text);
  ANALYZE;
`;

interface Relation { schema: string; name: string }
interface Counts { statements: number; analysed: number; allowed: number; explained: number; rejected: number; deniedExplained: number; findings: string[] }

let db: TestDatabase;
let client: pg.PoolClient;
/** Base relations a plan of `SELECT * FROM <name>` touches, by fact name (a view expands). */
const reach = new Map<string, Set<string>>();

before(async () => {
  db = await createTestDatabase({ prefix: 'sqldiff' });
  await db.query(SCHEMA);
  client = await db.admin().connect();
  // As Warden pins it in every connection's startup packet.
  await client.query('SET search_path = pg_catalog, public, pg_temp');
  await client.query(`SET statement_timeout = '5s'`);
});

after(async () => {
  client?.release();
  await db?.drop();
});

/** Every relation ("Relation Name" and its "Schema") anywhere in an EXPLAIN (FORMAT JSON) plan tree. */
function planRelations(node: unknown, out: Relation[]): Relation[] {
  if (Array.isArray(node)) for (const n of node) planRelations(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o['Relation Name'] === 'string') out.push({ schema: String(o['Schema']), name: o['Relation Name'] });
    for (const v of Object.values(o)) if (v && typeof v === 'object') planRelations(v, out);
  }
  return out;
}

const key = (r: Relation): string => `${r.schema}.${r.name}`;
const quoteName = (fact: string): string => fact.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');

/** EXPLAIN's relations, or null when PostgreSQL refuses the statement (nothing would run). */
async function explain(sql: string): Promise<Relation[] | null> {
  await client.query('SAVEPOINT e');
  try {
    const r = await client.query(`EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`);
    await client.query('RELEASE SAVEPOINT e');
    return planRelations((r.rows[0] as Record<string, unknown>)['QUERY PLAN'], []);
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT e');
    return null;
  }
}

/** What reading the relation a fact names may touch: itself, a view's base tables, a parent's children. */
async function reachOf(fact: string): Promise<Set<string>> {
  let s = reach.get(fact);
  if (!s) {
    const rels = await explain(`SELECT * FROM ${quoteName(fact)}`);
    s = new Set([fact, ...(rels ?? []).map(key)]);
    reach.set(fact, s);
  }
  return s;
}

function analyse(sql: string): SqlFacts | null {
  try {
    return analyzeSql(sql);
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'WARDEN_PARSE', `${sql}: unexpected ${String(e)}`);
    return null;
  }
}

/**
 * Judge one statement; a finding names the statement and the relation its facts missed. With
 * `all`, a statement no grant allows is planned too: deny rules and masks judge its facts, so
 * they must name what it reads as well (counted in deniedExplained).
 */
async function judge(sql: string, c: Counts, opts: { analyser?: (sql: string) => SqlFacts | null; all?: boolean } = {}): Promise<void> {
  c.statements++;
  const facts = (opts.analyser ?? analyse)(sql);
  if (!facts) return;
  c.analysed++;
  const allowed = GRANTS.some((g) => g(facts, call).matched);
  if (allowed) c.allowed++;
  else if (!opts.all) return;
  const rels = await explain(sql);
  if (rels === null) {
    if (allowed) c.rejected++;
    return;
  }
  if (allowed) c.explained++;
  else if (facts.functions.some((f) => USER_FUNCTIONS.test(f))) return; // their bodies are not read (README)
  else c.deniedExplained++;
  const reachable = new Set<string>();
  const named = [...facts.reads, ...facts.writes];
  for (const t of named) for (const r of await reachOf(t)) reachable.add(r);
  for (const r of rels) if (!reachable.has(key(r))) c.findings.push(`${allowed ? 'allowed' : 'denied'}: ${sql}\n  reads ${key(r)}; facts name ${named.join(', ') || 'nothing'}`);
}

const counts = (): Counts => ({ statements: 0, analysed: 0, allowed: 0, explained: 0, rejected: 0, deniedExplained: 0, findings: [] });
const BEGIN = 'BEGIN';

/** Mutations of a corpus statement: spellings of its names, and the statement as a subquery or CTE. */
function mutations(sql: string): string[] {
  const body = sql.trim().replace(/;\s*$/, '');
  const out = [body];
  for (const [from, to] of <[string, string][]>[['users', 'USERS'], ['users', '"users"'], ['users', 'public.users'], ['orders', 'PUBLIC.ORDERS'], ['secrets', 'users']]) {
    if (new RegExp(`\\b${from}\\b`).test(body)) out.push(body.replace(new RegExp(`(?<![."])\\b${from}\\b(?![."(])`, 'g'), to));
  }
  if (/^\s*(select|with|table|values)\b/i.test(body)) {
    out.push(`SELECT * FROM (${body}) AS w`);
    out.push(`WITH w AS (${body}) SELECT * FROM w`);
    out.push(`SELECT * FROM users WHERE EXISTS (${body})`);
  }
  return out;
}


test('hand-written forms: refused as written; with b for secret, planned relations are named', async (t) => {
  const c = counts();
  const renamed = counts();
  const allowed: string[] = [];
  await client.query(BEGIN);
  try {
    for (const sql of FORMS) {
      const before = c.allowed;
      await judge(sql, c, { all: true });
      if (c.allowed > before) allowed.push(sql);
      await judge(sql.replace(/\bsecret\b/g, 'b'), renamed, { all: true });
    }
  } finally {
    await client.query('ROLLBACK');
  }
  t.diagnostic(`forms ${FORMS.length}: allowed as written ${c.allowed}; with b: analysed ${renamed.analysed}, allowed ${renamed.allowed}, explained ${renamed.explained}; denied and planned ${c.deniedExplained + renamed.deniedExplained}`);
  assert.deepEqual([...c.findings, ...renamed.findings], []);
  // Only the form whose secret is an alias of a is allowed as written.
  assert.deepEqual(allowed, [FORMS[FORMS.length - 1]]);
  assert.ok(renamed.explained >= FORMS.length / 2, `only ${renamed.explained} renamed forms planned`);
});

test('generated SELECTs: every relation a plan reads is one the facts name (or reached through it)', async (t) => {
  const c = counts();
  const g = new SqlGrammar(SEED);
  await client.query(BEGIN);
  try {
    for (let i = 0; i < GENERATED; i++) await judge(g.next(), c, { all: true });
  } finally {
    await client.query('ROLLBACK');
  }
  t.diagnostic(`generated ${c.statements}, analysed ${c.analysed}, allowed ${c.allowed}, explained ${c.explained}, refused by PostgreSQL ${c.rejected}; denied and planned ${c.deniedExplained}`);
  assert.deepEqual(c.findings.slice(0, 20), []);
  // The grammar must exercise the grants, not only be refused.
  assert.ok(c.explained >= GENERATED / 10, `only ${c.explained} statements allowed and planned`);
});

test('the attack corpus and its mutations: no allowed statement reads an ungranted relation', async (t) => {
  const doc = parseYaml(readFileSync(join(corpusDir(), 'sql.yaml'), 'utf8')) as { cases: { sql?: string }[] };
  const c = counts();
  await client.query(BEGIN);
  try {
    for (const k of doc.cases) if (k.sql) for (const sql of mutations(k.sql)) await judge(sql, c, { all: true });
  } finally {
    await client.query('ROLLBACK');
  }
  t.diagnostic(`corpus statements ${c.statements}, analysed ${c.analysed}, allowed ${c.allowed}, explained ${c.explained}, refused by PostgreSQL ${c.rejected}; denied and planned ${c.deniedExplained}`);
  assert.deepEqual(c.findings, []);
  assert.ok(c.explained >= 20, `only ${c.explained} corpus statements allowed and planned`);
});

test('the oracle sees through views, subplans and CTEs (a finding is possible)', async () => {
  await client.query(BEGIN);
  try {
    // Facts that miss the subquery's table are a finding.
    const c = counts();
    const blind = (sql: string): SqlFacts => ({ ...analyzeSql(sql.replace('secret', 'b')), reads: ['public.a'] });
    await judge('SELECT id, x FROM a WHERE EXISTS (SELECT 1 FROM secret)', c, { analyser: blind });
    assert.equal(c.findings.length, 1);
    assert.match(c.findings[0] ?? '', /reads public\.secret; facts name public\.a/);
    const plan = (await explain('SELECT (SELECT max(id) FROM v_secret) AS m, x FROM a WHERE EXISTS (WITH c AS MATERIALIZED (SELECT * FROM b) SELECT 1 FROM c)'))?.map(key).sort();
    assert.deepEqual([...new Set(plan)], ['public.a', 'public.b', 'public.secret']);
    assert.deepEqual([...(await reachOf('public.parted'))].sort(), ['public.parted', 'public.parted_1', 'public.parted_2']);
  } finally {
    await client.query('ROLLBACK');
  }
});
