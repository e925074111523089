/**
 * Which relations are views, what their columns carry, and where each relation sits in its
 * inheritance tree, asked from the catalog and cached per connection like the connector's other
 * catalog answers (a TTL, so a redefined view or a new partition counts within it; forget()
 * after a statement that could change the schema). The hot path costs no round trip: a
 * relation's kind and family (ancestors, descendants, columns; inheritance.ts) are asked once,
 * in one query for all of a statement's relations, then answered from memory. Views are read
 * with pg_get_viewdef and analysed (view-lineage.ts). describe_database warms the cache for all
 * the relations it lists at once, then asks per relation as query_database would.
 */
import type pg from 'pg';
import { WardenError } from '../../src/tool-api.js';
import type { RelationFamily } from './inheritance.js';
import { analyseView, lineageTables, MAX_VIEW_DEPTH, resolveViews, viewRefusal, type ViewColumns, type ViewDefinition, type ViewLineages } from './view-lineage.js';

/** pg_class.relkind of the relations masking follows through: views and materialized views. */
export const VIEW_KINDS: ReadonlySet<string> = new Set(['v', 'm']);

/** A relation as the catalog describes it: its pg_class.relkind and its inheritance family. */
export interface CatalogRelation extends RelationFamily {
  kind: string;
}

/** What the catalog is asked (PgViewReader in production). */
export interface ViewReader {
  /** Kind and family of each named relation the catalog knows (unknown names are left out). */
  relations(names: readonly string[]): Promise<Map<string, CatalogRelation>>;
  /** Definitions and column names of the named views (views the catalog no longer has are left out). */
  viewDefinitions(names: readonly string[]): Promise<ViewDefinition[]>;
}

type Cached<T> = { at: number; value: T };

/** One connection's view knowledge. */
export class ViewCatalog {
  private relations = new Map<string, Cached<CatalogRelation>>();
  /** One-level lineage of each view (analyseView), or the refusal its definition earned. */
  private views = new Map<string, Cached<ViewColumns | WardenError>>();

  constructor(
    private readonly reader: ViewReader,
    private readonly ttlMs: number,
  ) {}

  /**
   * Lineage, down to base tables, of every view among `relations` and the views they read, for
   * the relations `follow` accepts. Empty (and no round trip once the kinds are cached) when none
   * is a view. Throws viewRefusal when a view cannot be followed.
   */
  async lineages(relations: Iterable<string>, follow: (relation: string) => boolean): Promise<ViewLineages> {
    const { oneLevel, refusal } = await this.walk(relations, follow, true);
    if (refusal) throw refusal;
    return oneLevel.size ? resolveViews(oneLevel) : new Map();
  }

  /**
   * Ask, in one query per level of nesting, for everything lineages() needs for any one of
   * `relations` (kinds, families, view definitions), going on past a view that cannot be
   * followed: describe_database then asks lineages() relation by relation from the cache,
   * each with the answer, or the refusal, query_database would get.
   */
  async warm(relations: Iterable<string>, follow: (relation: string) => boolean): Promise<void> {
    await this.walk(relations, follow, false);
  }

  /** The one walk down views, level by level; the first refusal ends it when `stop`. */
  private async walk(relations: Iterable<string>, follow: (relation: string) => boolean, stop: boolean): Promise<{ oneLevel: Map<string, ViewColumns>; refusal: WardenError | null }> {
    const oneLevel = new Map<string, ViewColumns>();
    let frontier = [...new Set(relations)].filter((r) => follow(r) && !r.startsWith('\u0000'));
    for (let depth = 0; frontier.length > 0; depth++) {
      if (depth > MAX_VIEW_DEPTH) return { oneLevel, refusal: viewRefusal(frontier[0]!, `views are nested deeper than ${MAX_VIEW_DEPTH}`) };
      const known = await this.relationsOf(frontier);
      const views = frontier.filter((r) => VIEW_KINDS.has(known.get(r)?.kind ?? '') && !oneLevel.has(r));
      const definitions = await this.definitionsOf(views);
      for (const v of views) {
        const columns = definitions.get(v) ?? viewRefusal(v, 'its definition was not read');
        if (columns instanceof WardenError) {
          if (stop) return { oneLevel, refusal: columns };
          continue;
        }
        oneLevel.set(v, columns);
      }
      frontier = lineageTables(views.flatMap((v) => [...(oneLevel.get(v)?.values() ?? [])])).filter((r) => follow(r) && !oneLevel.has(r));
    }
    return { oneLevel, refusal: null };
  }

  /**
   * The inheritance family of each of `relations` the catalog knows (a relation it does not know
   * is left out, and asked again next time). One query for all those not cached.
   */
  async families(relations: Iterable<string>): Promise<Map<string, RelationFamily>> {
    return this.relationsOf([...new Set(relations)]);
  }

  /** Forget what is known about `relations` (the field metadata showed a view where a table was cached), or everything. */
  forget(relations?: Iterable<string>): void {
    if (!relations) {
      this.relations.clear();
      this.views.clear();
      return;
    }
    for (const r of relations) {
      this.relations.delete(r);
      this.views.delete(r);
    }
  }

  private fresh<T>(c: Cached<T> | undefined, now: number): c is Cached<T> {
    return !!c && now - c.at <= this.ttlMs;
  }

  private async relationsOf(relations: string[]): Promise<Map<string, CatalogRelation>> {
    const now = Date.now();
    const out = new Map<string, CatalogRelation>();
    const missing: string[] = [];
    for (const r of relations) {
      const c = this.relations.get(r);
      if (this.fresh(c, now)) out.set(r, c.value);
      else missing.push(r);
    }
    if (missing.length === 0) return out;
    // A relation the catalog does not know is not cached: it may be created the next moment,
    // and PostgreSQL refuses a statement that reads it anyway.
    for (const [r, info] of await this.reader.relations(missing)) {
      this.relations.set(r, { at: now, value: info });
      out.set(r, info);
    }
    return out;
  }

  /** Each view's one-level lineage, or the refusal its definition earned (remembered like a definition). */
  private async definitionsOf(views: string[]): Promise<Map<string, ViewColumns | WardenError>> {
    const now = Date.now();
    const out = new Map<string, ViewColumns | WardenError>();
    const missing: string[] = [];
    for (const v of views) {
      const c = this.views.get(v);
      if (this.fresh(c, now)) out.set(v, c.value);
      else missing.push(v);
    }
    if (missing.length === 0) return out;
    const found = new Map((await this.reader.viewDefinitions(missing)).map((d) => [d.name, d]));
    for (const v of missing) {
      const def = found.get(v);
      if (!def) {
        out.set(v, viewRefusal(v, 'the catalog no longer has its definition'));
        continue;
      }
      let columns: ViewColumns | WardenError;
      try {
        columns = analyseView(def);
      } catch (e) {
        if (!(e instanceof WardenError)) throw e;
        // Remembered like a definition: an unanalysable view costs no round trip per call either.
        columns = e;
      }
      this.views.set(v, { at: now, value: columns });
      out.set(v, columns);
    }
    return out;
  }
}

/** Split schema.name (analysis refuses a '.' inside either part, so the first '.' separates them). */
function splitRelation(name: string): [string, string] {
  const dot = name.indexOf('.');
  if (dot <= 0 || name.indexOf('.', dot + 1) >= 0) throw viewRefusal(name, 'its name cannot be split into schema and relation');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** schema.name of the relations whose oids a recursive walk of pg_inherits (CTE `t`) reached. */
const FAMILY_NAMES = `SELECT fn.nspname::text || '.' || fc.relname::text FROM t
  JOIN pg_catalog.pg_class fc ON fc.oid = t.oid JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace`;

/** Kind, own columns, ancestors and descendants (pg_inherits, both directions, to any depth). */
const RELATIONS_SQL = `SELECT q.name, c.relkind::text AS relkind,
  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
  ARRAY(WITH RECURSIVE t(oid) AS (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
    UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN t ON i.inhrelid = t.oid) ${FAMILY_NAMES}) AS ancestors,
  ARRAY(WITH RECURSIVE t(oid) AS (SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid
    UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN t ON i.inhparent = t.oid) ${FAMILY_NAMES}) AS descendants
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel`;

type RelationRow = { name: string; relkind: string; columns: string[]; ancestors: string[]; descendants: string[] };

const VIEWS_SQL = `SELECT q.name, pg_catalog.pg_get_viewdef(c.oid) AS definition,
  ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel
WHERE c.relkind IN ('v', 'm')`;

function byParts(names: readonly string[]): [string[], string[], string[]] {
  const parts = names.map(splitRelation);
  return [[...names], parts.map((p) => p[0]), parts.map((p) => p[1])];
}

/** The catalog queries, on the connection's read-only pool. */
export function pgViewReader(pool: () => Promise<pg.Pool>): ViewReader {
  return {
    async relations(names) {
      const r = await (await pool()).query({ text: RELATIONS_SQL, values: byParts(names) });
      return new Map(
        (r.rows as RelationRow[]).map((row) => [row.name, { kind: row.relkind, columns: row.columns, ancestors: row.ancestors, descendants: row.descendants }]),
      );
    },
    async viewDefinitions(names) {
      // pg_get_viewdef qualifies a table unless the search_path finds it by its bare name: with
      // only pg_catalog (and pg_temp last) on it, every other table is printed schema-qualified,
      // so the analyser never reads an unqualified `pg_foo` in public as pg_catalog.pg_foo.
      const client = await (await pool()).connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN READ ONLY; SET LOCAL search_path = pg_catalog, pg_temp');
        const r = await client.query({ text: VIEWS_SQL, values: byParts(names) });
        await client.query('COMMIT');
        return r.rows as ViewDefinition[];
      } catch (e) {
        broken = e instanceof Error ? e : new Error('catalog query failed');
        throw e;
      } finally {
        client.release(broken);
      }
    },
  };
}
