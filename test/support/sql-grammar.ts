/**
 * A seeded generator of SELECT statements over the differential test's schema
 * (analysis-differential.test.ts). Why its own module: the grammar is data the test replays by
 * seed, and every query it makes returns the same two columns (id int, x text), so any query
 * may stand where another does (subquery, CTE, set operation, LATERAL, scalar subquery).
 */
import { mulberry32 } from './prng.js';

/** Relations of the schema and how a statement may spell each (case, quotes, schema). */
const SPELLINGS: Record<string, string[]> = {
  a: ['a', 'A', '"a"', 'public.a', 'PUBLIC.A', '"public"."a"', 'public."a"'],
  b: ['b', 'B', '"b"', 'public.b', 'Public.b'],
  secret: ['secret', 'SECRET', '"secret"', 'public.secret'],
  v_secret: ['v_secret', 'public.v_secret'],
  mv_secret: ['mv_secret'],
  parted: ['parted', 'public.parted'],
  parted_1: ['parted_1'],
  base: ['base'],
  kid: ['kid'],
  mixed: ['"A"', 'public."A"', '"B"'],
  shadow: ['s.a', 'S.A', '"s"."a"', 's.b'],
};
/** Heavier on a and b so that many statements stay inside the grants. */
const WEIGHTS: [string, number][] = [
  ['a', 16], ['b', 8], ['secret', 2], ['v_secret', 1], ['mv_secret', 1], ['parted', 1],
  ['parted_1', 1], ['base', 1], ['kid', 1], ['mixed', 1], ['shadow', 1],
];
/** Aliases, some of which shadow relation names. */
const ALIASES = ['t', 'u', 'q', 'a', 'b', 'secret', 'v_secret', '"A"', 'A', 'kid'];

/** Generates statements; `next()` returns one statement, deterministic for a seed. */
export class SqlGrammar {
  private readonly rnd: () => number;
  private n = 0;
  /** CTE names in scope (each returns id, x). */
  private ctes: string[] = [];

  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }

  next(): string {
    this.ctes = [];
    return this.query(0);
  }

  private int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  private chance(p: number): boolean {
    return this.rnd() < p;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  private alias(): string {
    return this.chance(0.6) ? `t${++this.n}` : this.pick(ALIASES);
  }

  private relation(): string {
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let r = this.int(total);
    for (const [name, w] of WEIGHTS) {
      if (r < w) return this.pick(SPELLINGS[name] as string[]);
      r -= w;
    }
    return 'a';
  }

  /** A query returning (id int, x text). */
  private query(depth: number): string {
    const saved = this.ctes;
    let withs = '';
    if (depth < 3 && this.chance(0.25)) {
      // Several CTEs whose names may shadow tables; a body may name a later sibling, or itself,
      // which PostgreSQL resolves to the table of that name unless the WITH is RECURSIVE.
      const recursive = this.chance(0.3);
      const names = [...new Set(Array.from({ length: 1 + this.int(3) }, () => (this.chance(0.6) ? this.pick(['a', 'b', 'secret', 'A', '"a"', 'v_secret']) : `c${++this.n}`)))];
      this.ctes = [...saved, ...names];
      const defs = names.map((name) => {
        const body = recursive && this.chance(0.6)
          ? `SELECT id, x FROM ${this.relation()} UNION ALL SELECT ${name}.id + 1, ${name}.x FROM ${name} WHERE ${name}.id < ${this.scalar(depth + 1, [])}`
          : this.query(depth + 1);
        return `${name}${recursive ? '(id, x)' : ''} AS ${this.chance(0.03) ? 'MATERIALIZED ' : ''}(${body})`;
      });
      withs = `WITH ${recursive ? 'RECURSIVE ' : ''}${defs.join(', ')} `;
    }
    let q: string;
    const form = this.rnd();
    if (depth < 3 && form < 0.15) {
      q = `${this.simple(depth + 1)} ${this.pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT'])} ${this.chance(0.3) ? `(${this.query(depth + 1)})` : this.simple(depth + 1)}`;
    } else if (form >= 0.15 && form < 0.16) {
      q = `TABLE ${this.chance(0.3) && this.ctes.length ? this.pick(this.ctes) : this.pick(['a', 'b', 'secret', 'v_secret', 'public.a', 'A'])}`;
    } else {
      q = this.simple(depth);
    }
    this.ctes = saved;
    return withs + q;
  }

  /** SELECT id, x FROM ... with any of its clauses. */
  private simple(depth: number): string {
    const scope: string[] = [];
    const from = this.fromList(depth, scope);
    const grouped = this.chance(0.15);
    const t = this.pick(scope);
    const sel = grouped
      ? `${t}.id + ${this.scalar(depth + 1, scope)} AS id, max(${t}.x) AS x`
      : `${this.scalar(depth + 1, scope)} AS id, ${this.text(depth + 1, scope)} AS x${this.chance(0.06) ? `, ${this.window(depth + 1, scope)} AS w` : ''}`;
    const parts = [`SELECT ${this.chance(0.04) ? 'DISTINCT ' : ''}${sel}`, `FROM ${from}`];
    if (this.chance(0.4)) parts.push(`WHERE ${this.cond(depth + 1, scope)}`);
    if (grouped) {
      parts.push(`GROUP BY ${t}.id${this.chance(0.3) ? `, ${this.scalar(depth + 1, scope)}` : ''}`);
      if (this.chance(0.5)) parts.push(`HAVING count(*) FILTER (WHERE ${this.cond(depth + 1, scope)}) >= ${this.scalar(depth + 1, [])}`);
    }
    if (this.chance(0.2)) parts.push(`ORDER BY ${grouped ? `${t}.id` : this.scalar(depth + 1, scope)}`);
    if (this.chance(0.15)) parts.push(`LIMIT ${this.chance(0.1) ? this.scalar(depth + 1, []) : this.int(5)}`);
    if (this.chance(0.05)) parts.push(`OFFSET ${this.chance(0.1) ? this.scalar(depth + 1, []) : this.int(3)}`);
    const s = parts.join(' ');
    // A SELECT with a window column has three columns: wrap it back to two.
    return s.includes(' AS w') && !grouped ? `SELECT id, x FROM (${s}) AS ${this.alias()}` : s;
  }

  private fromList(depth: number, scope: string[]): string {
    const items = [this.fromItem(depth, scope, false)];
    while (this.chance(0.3) && items.length < 3) {
      const join = this.pick(['JOIN', 'LEFT JOIN', 'CROSS JOIN', ',', 'JOIN LATERAL', ', LATERAL']);
      const lateral = join.includes('LATERAL');
      const right = this.fromItem(depth, scope, lateral);
      if (join === 'CROSS JOIN' || join.startsWith(',')) items.push(`${join === ',' ? ',' : ` ${join}`} ${right}`);
      else items.push(` ${join} ${right} ON ${this.cond(depth + 1, scope)}`);
    }
    return items.join('').replace(/ ,/g, ',');
  }

  /** One FROM item exposing id and x under a new alias, pushed on scope. */
  private fromItem(depth: number, scope: string[], lateral: boolean): string {
    const alias = this.alias();
    const inner = [...scope];
    scope.push(alias);
    let r = this.rnd();
    if (depth >= 3 && r >= 0.45 && r < 0.72) r = lateral ? 0.86 : this.rnd() * 0.45;
    if (r < 0.45 && !lateral) {
      const only = this.chance(0.08) ? 'ONLY ' : '';
      const sample = this.chance(0.02) ? ` TABLESAMPLE ${this.pick(['BERNOULLI', 'SYSTEM'])} (${this.pick(['50', '10'])})` : '';
      const as = this.chance(0.5) ? ' AS ' : ' ';
      return `${only}${this.relation()}${as}${alias}${sample}`;
    }
    if (r < 0.55 && !lateral && this.ctes.length) return `${this.chance(0.1) ? 'public.' : ''}${this.pick(this.ctes)} ${alias}`;
    if ((r < 0.72 || (lateral && r < 0.85)) && depth < 3) return `${lateral ? '' : this.chance(0.2) ? 'LATERAL ' : ''}(${this.queryIn(depth + 1, lateral ? inner : [])}) AS ${alias}`;
    if (r < 0.74) return `(VALUES (${this.scalar(depth + 1, lateral ? inner : [])}, 'v'), (2, ${this.text(depth + 1, [])})) AS ${alias}(id, x)`;
    if (r < 0.88) return `unnest(ARRAY[${this.scalar(depth + 1, lateral ? inner : [])}, 2], ARRAY['p', 'q']) AS ${alias}(id, x)`;
    if (r < 0.94) return `(SELECT g.id, 'g' AS x FROM generate_series(1, ${this.scalar(depth + 1, lateral ? inner : [])}) AS g(id)) AS ${alias}`;
    if (r < 0.955) return `(SELECT id, x FROM ${this.pick(['secret_rows()', 'public.secret_rows()'])}) AS ${alias}`;
    if (r < 0.97) return `(SELECT last_value::int AS id, 's' AS x FROM ${this.pick(['seq', 'public.seq', 'SEQ'])}) AS ${alias}`;
    // System catalogs and information_schema views, unqualified too (pg_catalog comes first).
    return this.pick([
      `(SELECT oid::int AS id, relname::text AS x FROM ${this.pick(['pg_class', 'pg_catalog.pg_class', 'PG_CLASS'])}) AS ${alias}`,
      `(SELECT 1 AS id, table_name::text AS x FROM information_schema.tables) AS ${alias}`,
      `(SELECT usesysid::int AS id, usename::text AS x FROM pg_user) AS ${alias}`,
    ]);
  }

  /** A query that may be correlated to the outer scope. */
  private queryIn(depth: number, outer: string[]): string {
    if (!outer.length || this.chance(0.5)) return this.query(depth);
    const scope = [...outer];
    const from = this.fromItem(depth, scope, false);
    const me = scope[scope.length - 1] as string;
    return `SELECT ${me}.id, ${me}.x FROM ${from} WHERE ${me}.id = ${this.pick(outer)}.id`;
  }

  /** An int expression. */
  private scalar(depth: number, scope: string[]): string {
    const r = this.rnd();
    if (depth > 2 || r < 0.45) return scope.length && this.chance(0.7) ? `${this.pick(scope)}.id` : String(this.int(5));
    if (r < 0.5) {
      const agg = this.chance(0.2) ? 'count(*)' : `${this.pick(['max', 'min', 'count', 'sum'])}(z.id)`;
      return `(SELECT ${agg}::int FROM (${this.queryIn(depth + 1, scope)}) z)`;
    }
    if (r < 0.58) return `(SELECT z.id FROM ${this.relation()} z ${scope.length && this.chance(0.5) ? `WHERE z.id = ${this.pick(scope)}.id ` : ''}LIMIT 1)`;
    if (r < 0.65) return `CASE WHEN ${this.cond(depth + 1, scope)} THEN ${this.scalar(depth + 1, scope)} ELSE ${this.scalar(depth + 1, scope)} END`;
    if (r < 0.72) {
      const fn = this.pick(['coalesce', 'abs', 'greatest', 'least']);
      const args = fn === 'abs' || this.chance(0.5) ? [this.scalar(depth + 1, scope)] : [this.scalar(depth + 1, scope), this.scalar(depth + 1, scope)];
      return `${fn}(${args.join(', ')})`;
    }
    if (r < 0.78) return `(ARRAY(SELECT z.id FROM (${this.queryIn(depth + 1, scope)}) z))[1]`;
    if (r < 0.8) return `(ROW(${this.scalar(depth + 1, scope)}, 'r') = ROW(1, ${this.text(depth + 1, scope)}))::int`;
    if (r < 0.88) return `CAST(${this.scalar(depth + 1, scope)} AS integer)`;
    if (r < 0.91) return `length(${this.text(depth + 1, scope)})`;
    if (r < 0.93) return `${this.pick(['secret_count', 'public.secret_count'])}(${this.scalar(depth + 1, scope)})`;
    return `${this.scalar(depth + 1, scope)} + ${this.scalar(depth + 1, scope)}`;
  }

  /** A text expression. */
  private text(depth: number, scope: string[]): string {
    const r = this.rnd();
    if (depth > 2 || r < 0.55) return scope.length && this.chance(0.7) ? `${this.pick(scope)}.x` : `'k'`;
    if (r < 0.6) return `(SELECT z.x FROM (${this.queryIn(depth + 1, scope)}) z LIMIT 1)`;
    if (r < 0.7) return `lower(${this.text(depth + 1, scope)})`;
    if (r < 0.8) return this.chance(0.2) ? `${this.scalar(depth + 1, scope)}::text` : `CAST(${this.scalar(depth + 1, scope)} AS text)`;
    if (r < 0.9) return `coalesce(${this.text(depth + 1, scope)}, ${this.text(depth + 1, scope)})`;
    return `CASE ${this.chance(0.1) ? `${this.scalar(depth + 1, scope)} WHEN 1` : `WHEN ${this.cond(depth + 1, scope)}`} THEN ${this.text(depth + 1, scope)} ELSE 'e' END`;
  }

  /** A condition. */
  private cond(depth: number, scope: string[]): string {
    const r = this.rnd();
    if (depth > 2 || r < 0.35) return `${this.scalar(depth + 1, scope)} ${this.pick(['=', '<', '>=', '<>'])} ${this.scalar(depth + 1, scope)}`;
    if (r < 0.5) return `${this.chance(0.3) ? 'NOT ' : ''}EXISTS (${this.queryIn(depth + 1, scope)})`;
    if (r < 0.65) return `${this.scalar(depth + 1, scope)} ${this.chance(0.3) ? 'NOT ' : ''}IN (SELECT z.id FROM (${this.queryIn(depth + 1, scope)}) z)`;
    if (r < 0.75) return `${this.scalar(depth + 1, scope)} ${this.pick(['>', '='])} ${this.pick(['ALL', 'ANY', 'SOME'])} (SELECT z.id FROM ${this.relation()} z)`;
    if (r < 0.85) return `(${this.cond(depth + 1, scope)}) ${this.pick(['AND', 'OR'])} (${this.cond(depth + 1, scope)})`;
    if (r < 0.93) return `${this.text(depth + 1, scope)} LIKE ${this.text(depth + 1, scope)}`;
    return `${this.scalar(depth + 1, scope)} BETWEEN ${this.scalar(depth + 1, scope)} AND ${this.scalar(depth + 1, scope)}`;
  }

  /** A window call (bigint, cast to int) whose frame and partition may hold subqueries. */
  private window(depth: number, scope: string[]): string {
    const frame = this.chance(0.5) ? ` ROWS BETWEEN ${this.chance(0.2) ? this.scalar(depth + 1, []) : this.int(3)} PRECEDING AND CURRENT ROW` : '';
    const fn = this.pick(['sum', 'count', 'row_number', 'lag']);
    const arg = fn === 'row_number' ? '' : this.scalar(depth + 1, scope);
    const filter = fn !== 'row_number' && fn !== 'lag' && this.chance(0.3) ? ` FILTER (WHERE ${this.cond(depth + 1, scope)})` : '';
    return `${fn}(${arg})${filter} OVER (PARTITION BY ${this.chance(0.2) || !scope.length ? this.scalar(depth + 1, scope) : `${this.pick(scope)}.x`} ORDER BY ${this.scalar(depth + 1, scope)}${frame})`;
  }
}

/**
 * Hand-written forms for analysis-differential.test.ts: a subquery on secret in each clause and
 * expression form the grammar does not make, and CTE scopes nested in CTEs and subqueries. The
 * last one alone reads no secret (secret is an alias of a). As written a read grant must refuse
 * all others; with secret renamed b, each one a grant allows is planned and checked.
 */
export const FORMS: readonly string[] = `
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (SELECT id FROM secret LIMIT 1)) FROM a
SELECT mode() WITHIN GROUP (ORDER BY (SELECT id FROM secret LIMIT 1)) FROM a
SELECT count(DISTINCT (SELECT id FROM secret LIMIT 1)) FROM a
SELECT sum(id) OVER w FROM a WINDOW w AS (ORDER BY (SELECT id FROM secret LIMIT 1))
SELECT count(*) FROM a GROUP BY GROUPING SETS ((SELECT id FROM secret LIMIT 1))
SELECT count(*) FROM a GROUP BY ROLLUP ((SELECT id FROM secret LIMIT 1))
SELECT DISTINCT ON ((SELECT id FROM secret LIMIT 1)) id FROM a
SELECT id FROM a FETCH FIRST (SELECT id FROM secret LIMIT 1) ROWS ONLY
SELECT (ARRAY[1, 2])[1:(SELECT id FROM secret LIMIT 1)] FROM a
SELECT id IS DISTINCT FROM (SELECT id FROM secret LIMIT 1) FROM a
SELECT now() AT TIME ZONE (SELECT x FROM secret LIMIT 1) FROM a
SELECT extract(year FROM (SELECT now() FROM secret LIMIT 1)) FROM a
SELECT substring(x FROM (SELECT id FROM secret LIMIT 1) FOR 2) FROM a
SELECT trim(BOTH (SELECT x FROM secret LIMIT 1) FROM x) FROM a
SELECT ARRAY[(SELECT id FROM secret LIMIT 1)] FROM a
SELECT 1 FROM a WHERE id = ANY(ARRAY(SELECT id FROM secret))
SELECT 1 FROM a WHERE id IN (1, (SELECT id FROM secret LIMIT 1))
SELECT 1 FROM a WHERE x LIKE 'a' ESCAPE (SELECT x FROM secret LIMIT 1)
SELECT 1 FROM a WHERE x SIMILAR TO (SELECT x FROM secret LIMIT 1)
SELECT 1 FROM a WHERE id BETWEEN SYMMETRIC (SELECT id FROM secret LIMIT 1) AND 2
VALUES ((SELECT x FROM secret LIMIT 1))
(SELECT * FROM secret)
((SELECT id FROM a)) UNION ((SELECT id FROM secret))
SELECT 1 FROM a/* c */, secret
SELECT $$x$$ FROM a, secret
SELECT 1 FROM a WHERE x = $q$ ' $q$ OR EXISTS (SELECT 1 FROM secret)
SELECT (SELECT x FROM secret LIMIT 1) COLLATE "C" FROM a
SELECT * FROM ROWS FROM (generate_series(1, (SELECT id FROM secret LIMIT 1))) g
SELECT * FROM unnest(ARRAY(SELECT x FROM secret)) u
SELECT interval '1 day' * (SELECT id FROM secret LIMIT 1) FROM a
SELECT 1 FROM a WHERE (id, x) = (SELECT id, x FROM secret LIMIT 1)
SELECT 1 FROM a WHERE ROW(id, x) = ANY (SELECT id, x FROM secret)
SELECT 1 FROM a WHERE NOT (id <> ALL (SELECT id FROM secret))
SELECT lag(id, (SELECT id FROM secret LIMIT 1)) OVER () FROM a
SELECT sum(id) OVER (ORDER BY id RANGE BETWEEN (SELECT id FROM secret LIMIT 1) PRECEDING AND CURRENT ROW) FROM a
SELECT 1 FROM a LIMIT ALL OFFSET (SELECT id FROM secret LIMIT 1)
SELECT * FROM a CROSS JOIN LATERAL generate_series(1, (SELECT id FROM secret LIMIT 1)) g
SELECT * FROM a FULL JOIN b ON a.id = (SELECT id FROM secret LIMIT 1)
SELECT * FROM a JOIN b ON (SELECT true FROM secret LIMIT 1)
WITH a AS (SELECT * FROM secret) SELECT * FROM b WHERE EXISTS (SELECT 1 FROM a)
WITH c1 AS (SELECT * FROM secret), secret AS (SELECT * FROM a) SELECT * FROM c1
WITH secret AS (SELECT * FROM secret) SELECT * FROM secret
WITH secret AS (SELECT * FROM a) SELECT * FROM public.secret
SELECT * FROM (WITH secret AS (SELECT * FROM a) SELECT * FROM secret) x, secret
SELECT (WITH secret AS (SELECT 1 AS id) SELECT id FROM secret), (SELECT id FROM secret LIMIT 1) FROM a
SELECT * FROM a UNION (WITH secret AS (SELECT * FROM a) SELECT * FROM secret) UNION SELECT * FROM secret
SELECT * FROM b WHERE EXISTS (WITH RECURSIVE a(id) AS (SELECT id FROM secret UNION SELECT id FROM a) SELECT 1 FROM a)
SELECT string_agg(x, ',' ORDER BY (SELECT x FROM secret LIMIT 1)) FROM a
SELECT array_agg(DISTINCT x) FILTER (WHERE EXISTS (SELECT 1 FROM secret)) FROM a
SELECT 1 FROM a WHERE (SELECT true FROM secret LIMIT 1) IS TRUE
SELECT @ (SELECT id FROM secret LIMIT 1) FROM a
SELECT 1 FROM public . a , public . secret
SELECT 1 FROM a, "public".secret
WITH c AS (WITH secret AS (SELECT * FROM a) SELECT * FROM secret) SELECT * FROM c, secret
WITH c AS (WITH secret AS (SELECT * FROM a) SELECT * FROM secret), d AS (SELECT * FROM secret) SELECT * FROM c, d
SELECT * FROM a, (WITH secret AS (SELECT 1 AS id) SELECT * FROM secret) s WHERE s.id IN (SELECT id FROM secret)
SELECT secret.id FROM a secret, LATERAL (SELECT secret.x) s
`.trim().split('\n');
