/**
 * Which relations are views, and what their columns carry, asked from the catalog and cached
 * per connection like the connector's other catalog answers (a TTL, so a redefined view counts
 * within it; forget() after a statement that could change the schema). The hot path costs no
 * round trip: a table's kind is asked once, then a statement that reads only tables it knows is
 * answered from memory. Views are read with pg_get_viewdef and analysed (view-lineage.ts).
 */
import type pg from 'pg';
import { WardenError } from '../../src/tool-api.js';
import { analyseView, lineageTables, MAX_VIEW_DEPTH, resolveViews, viewRefusal, type ViewColumns, type ViewDefinition, type ViewLineages } from './view-lineage.js';

/** relkind values whose rows come from a stored query: view and materialized view. */
/** pg_class.relkind of the relations masking follows through: views and materialized views. */
export const VIEW_KINDS: ReadonlySet<string> = new Set(['v', 'm']);

/** What the catalog is asked (PgViewReader in production). */
export interface ViewReader {
  /** pg_class.relkind of each named relation the catalog knows (unknown names are left out). */
  relationKinds(names: readonly string[]): Promise<Map<string, string>>;
  /** Definitions and column names of the named views (views the catalog no longer has are left out). */
  viewDefinitions(names: readonly string[]): Promise<ViewDefinition[]>;
}

type Cached<T> = { at: number; value: T };

/** One connection's view knowledge. */
export class ViewCatalog {
  private kinds = new Map<string, Cached<string>>();
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
    const oneLevel = new Map<string, ViewColumns>();
    let frontier = [...new Set(relations)].filter((r) => follow(r) && !r.startsWith('\u0000'));
    for (let depth = 0; frontier.length > 0; depth++) {
      if (depth > MAX_VIEW_DEPTH) throw viewRefusal(frontier[0]!, `views are nested deeper than ${MAX_VIEW_DEPTH}`);
      const kinds = await this.kindsOf(frontier);
      const views = frontier.filter((r) => VIEW_KINDS.has(kinds.get(r) ?? '') && !oneLevel.has(r));
      for (const [name, columns] of await this.definitionsOf(views)) oneLevel.set(name, columns);
      frontier = lineageTables(views.flatMap((v) => [...oneLevel.get(v)!.values()])).filter((r) => follow(r) && !oneLevel.has(r));
    }
    return oneLevel.size ? resolveViews(oneLevel) : new Map();
  }

  /** Forget what is known about `relations` (the field metadata showed a view where a table was cached), or everything. */
  forget(relations?: Iterable<string>): void {
    if (!relations) {
      this.kinds.clear();
      this.views.clear();
      return;
    }
    for (const r of relations) {
      this.kinds.delete(r);
      this.views.delete(r);
    }
  }

  private fresh<T>(c: Cached<T> | undefined, now: number): c is Cached<T> {
    return !!c && now - c.at <= this.ttlMs;
  }

  private async kindsOf(relations: string[]): Promise<Map<string, string>> {
    const now = Date.now();
    const out = new Map<string, string>();
    const missing: string[] = [];
    for (const r of relations) {
      const c = this.kinds.get(r);
      if (this.fresh(c, now)) out.set(r, c.value);
      else missing.push(r);
    }
    if (missing.length === 0) return out;
    // A relation the catalog does not know is not cached: it may be created the next moment,
    // and PostgreSQL refuses a statement that reads it anyway.
    for (const [r, kind] of await this.reader.relationKinds(missing)) {
      this.kinds.set(r, { at: now, value: kind });
      out.set(r, kind);
    }
    return out;
  }

  private async definitionsOf(views: string[]): Promise<Map<string, ViewColumns>> {
    const now = Date.now();
    const out = new Map<string, ViewColumns>();
    const missing: string[] = [];
    for (const v of views) {
      const c = this.views.get(v);
      if (this.fresh(c, now)) {
        if (c.value instanceof WardenError) throw c.value;
        out.set(v, c.value);
      } else {
        missing.push(v);
      }
    }
    if (missing.length === 0) return out;
    const found = new Map((await this.reader.viewDefinitions(missing)).map((d) => [d.name, d]));
    for (const v of missing) {
      const def = found.get(v);
      if (!def) throw viewRefusal(v, 'the catalog no longer has its definition');
      let columns: ViewColumns;
      try {
        columns = analyseView(def);
      } catch (e) {
        // Remembered like a definition: an unanalysable view costs no round trip per call either.
        if (e instanceof WardenError) this.views.set(v, { at: now, value: e });
        throw e;
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

const KINDS_SQL = `SELECT q.name, c.relkind::text AS relkind
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(name, nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = q.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.rel`;

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
    async relationKinds(names) {
      const r = await (await pool()).query({ text: KINDS_SQL, values: byParts(names) });
      return new Map((r.rows as { name: string; relkind: string }[]).map((row) => [row.name, row.relkind]));
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
