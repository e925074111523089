/**
 * Which relations are views, what their columns carry, and where each relation sits in its
 * inheritance tree, asked from the catalog and cached per connection like the connector's other
 * catalog answers (a TTL, so a redefined view or a new partition counts within it; forget()
 * after a statement that could change the schema). The hot path costs no round trip: a
 * relation's kind and family (ancestors, descendants, their other ancestors, foreign
 * descendants, columns; inheritance.ts) are asked once, in one query for all of a statement's
 * relations, then answered from memory. Views are read
 * with pg_get_viewdef and analysed once for both masks (their columns' lineage) and deny rules
 * (what they reach; widened-relations.ts), by one walk down views of views. describe_database
 * warms the cache for all the relations it lists at once, then asks per relation as
 * query_database would. The catalog queries themselves are in view-reader.ts. Each definition a
 * call uses leaves its print on the call's Caller, checked after its statement (view-prints.ts).
 */
import { WardenError } from '../../src/tool-api.js';
import { FOREIGN_TABLE_KIND } from './foreign-tables.js';
import {
  analyseDefinition, isSystemRelation, lineageTables, MAX_VIEW_DEPTH, resolveViews, viewRefusal,
  type AnalysedView, type ViewColumns, type ViewLineages, type ViewReach,
} from './view-lineage.js';
import type { CatalogRelation, ViewReader } from './view-reader.js';
import type { Caller } from './pool-shares.js';
import { notePrint } from './view-prints.js';
import type { SourceColumn } from './analysis/types.js';
import type { CatalogReach } from './widened-relations.js';

export type { CatalogRelation, ViewReader } from './view-reader.js';

/** pg_class.relkind of the relations masking follows through: views and materialized views. */
export const VIEW_KINDS: ReadonlySet<string> = new Set(['v', 'm']);

type Cached<T> = { at: number; value: T };

/** What relations reach by name (ViewCatalog.reached). */
export interface Reached {
  /** Every relation met that the catalog knows, the named ones included. */
  relations: ReadonlySet<string>;
  /** Those that are (plain) views, system views included. */
  views: readonly string[];
  /** Those with row level security enabled (pg_class.relrowsecurity). */
  rowSecurity: readonly string[];
  /** Every function the views met call (system views are not opened), spelled as facts spell them. */
  functions: ReadonlySet<string>;
  /** Every column the definitions of the views met read anywhere (system views are not opened). */
  columns: readonly SourceColumn[];
  /** A view at which the walk stopped, nested too deep (what lies below it is unknown). */
  tooDeep: string | null;
}

/** What one walk down views found. */
interface Walk {
  /** Every view `follow` accepted, analysed (or refused), in the order it was met. */
  views: Map<string, AnalysedView>;
  /** Views `follow` did not accept (their definitions were not read). */
  unfollowed: Set<string>;
  /** Kind and family of every relation met that the catalog knows. */
  known: Map<string, CatalogRelation>;
  /** A view at which the walk stopped, nested too deep. */
  tooDeep: string | null;
}

/** Relations a view's definition reads or draws its columns from: the next level of the walk. */
function readBy(view: AnalysedView): string[] {
  const reads = typeof view.reach === 'string' ? view.reads : view.reach.reads;
  const lineage = view.columns instanceof WardenError ? [] : lineageTables(view.columns.values());
  return [...reads, ...lineage];
}

/**
 * One connection's view knowledge. Each method takes the call's Caller: a query it needs runs on
 * a session of that principal's share of the read pool (connector.ts); omitted, Warden's own.
 */
export class ViewCatalog {
  private relations = new Map<string, Cached<CatalogRelation>>();
  /** Each view's definition, analysed (analyseDefinition), with its print as read with it (view-prints.ts). */
  private views = new Map<string, Cached<AnalysedView> & { print: string | null }>();
  /** The relations of the system schemas, asked once when a system view is reached. */
  private system: Cached<readonly string[]> | null = null;
  /** Every relation of the database, asked once when a write fires a trigger deny rules cannot follow. */
  private all: Cached<readonly string[]> | null = null;

  constructor(
    private readonly reader: ViewReader,
    private readonly ttlMs: number,
  ) {}

  /**
   * Lineage, down to base tables, of every view among `relations` and the views they read, for
   * the relations `follow` accepts. Empty (and no round trip once the kinds are cached) when none
   * is a view. Throws viewRefusal when a view cannot be followed.
   */
  async lineages(relations: Iterable<string>, follow: (relation: string) => boolean, caller?: Caller): Promise<ViewLineages> {
    const { views, tooDeep } = await this.walk(relations, follow, false, caller);
    const oneLevel = new Map<string, ViewColumns>();
    for (const [v, analysed] of views) {
      if (analysed.columns instanceof WardenError) throw analysed.columns;
      oneLevel.set(v, analysed.columns);
    }
    if (tooDeep) throw viewRefusal(tooDeep, `views are nested deeper than ${MAX_VIEW_DEPTH}`);
    return oneLevel.size ? resolveViews(oneLevel) : new Map();
  }

  /**
   * Ask, in one query per level of nesting, for everything lineages() and reach() need for any
   * one of `relations` (kinds, families, view definitions), going on past a view that cannot be
   * followed: describe_database then asks relation by relation from the cache, each with the
   * answer, or the refusal, query_database would get.
   */
  async warm(relations: Iterable<string>, follow: (relation: string) => boolean, caller?: Caller): Promise<void> {
    await this.walk(relations, follow, false, caller);
  }

  /**
   * What `relations` reach for deny rules (widened-relations.ts): the families of every relation
   * met, what each view reads, down through views of views; a system view (pg_catalog,
   * information_schema) is not read but reaches every relation of the system schemas (one query,
   * cached, and only when one is met). `writes` (the statement changes rows): the tables foreign
   * keys cascade into are walked too, level by level, so that their own cascades, triggers and
   * rules are known (write-reach.ts), and the tables its foreign key checks read, for their
   * families only (key-checks.ts); a read-only statement asks nothing for them. Costs no round
   * trip once cached.
   */
  async reach(relations: Iterable<string>, opts: { writes?: boolean } = {}, caller?: Caller): Promise<CatalogReach> {
    const { views, unfollowed, known, tooDeep } = await this.walk(relations, (r) => !isSystemRelation(r), opts.writes === true, caller);
    const reach = new Map<string, ViewReach | string>([...views].map(([v, a]) => [v, a.reach]));
    if (tooDeep) reach.set(tooDeep, `views are nested deeper than ${MAX_VIEW_DEPTH}`);
    const foreign = new Set([...known].filter(([, r]) => r.kind === FOREIGN_TABLE_KIND).map(([name]) => name));
    return { families: known, views: reach, systemViews: unfollowed, system: unfollowed.size ? await this.systemRelations(caller) : [], foreign };
  }

  /**
   * What `relations` reach by name, down through views of views (what each definition reads
   * anywhere, also one deny rules cannot follow, and what its columns draw from), and the
   * functions those views call and columns they read; system views are not opened. For the checks on what a
   * statement may touch at all (statistics-values.ts, foreign tables under masks in
   * view-masking.ts). The walk reach() takes, on the same cache: no round trip once warm.
   */
  async reached(relations: Iterable<string>, caller?: Caller): Promise<Reached> {
    const { known, views: followed, tooDeep } = await this.walk(relations, (r) => !isSystemRelation(r), false, caller);
    const views = [...known].filter(([, k]) => k.kind === 'v').map(([r]) => r);
    const functions = new Set([...followed.values()].flatMap((v) => v.calls));
    const columns = [...followed.values()].flatMap((v) => v.readColumns);
    const rowSecurity = [...known].filter(([, k]) => k.rowSecurity === true).map(([r]) => r);
    return { relations: new Set(known.keys()), views, rowSecurity, functions, columns, tooDeep };
  }

  /** The one walk down views, level by level: kinds of every relation met, definitions of the views `follow` accepts. */
  private async walk(relations: Iterable<string>, follow: (relation: string) => boolean, cascading: boolean, caller: Caller | undefined): Promise<Walk> {
    const out: Walk = { views: new Map(), unfollowed: new Set(), known: new Map(), tooDeep: null };
    let frontier = [...new Set(relations)].filter((r) => !r.startsWith('\u0000'));
    // Read by a foreign key check only: its family is asked, its own keys and cascades are not followed (key-checks.ts).
    const checkedOnly = new Set<string>();
    for (let depth = 0; frontier.length > 0; depth++) {
      if (depth > MAX_VIEW_DEPTH) return { ...out, tooDeep: frontier[0]! };
      const kinds = await this.relationsOf(frontier, caller);
      for (const [r, k] of kinds) out.known.set(r, k);
      const found = frontier.filter((r) => VIEW_KINDS.has(kinds.get(r)?.kind ?? '') && !out.views.has(r));
      for (const v of found) if (!follow(v)) out.unfollowed.add(v);
      const views = found.filter(follow);
      const definitions = await this.definitionsOf(views, caller);
      for (const v of views) out.views.set(v, definitions.get(v)!);
      const next = new Set(views.flatMap((v) => readBy(out.views.get(v)!)));
      const checked = new Set<string>();
      if (cascading) {
        for (const [r, k] of kinds) {
          if (checkedOnly.has(r)) continue;
          for (const c of k.cascades ?? []) next.add(c);
          for (const c of k.keyChecks ?? []) checked.add(c.reads);
        }
      }
      // A relation met before only as checked is asked again (from the cache) when it is reached otherwise, to follow it.
      frontier = [...next].filter((r) => !r.startsWith('\u0000') && (!out.known.has(r) || checkedOnly.delete(r)));
      for (const r of checked) {
        if (next.has(r) || out.known.has(r)) continue;
        checkedOnly.add(r);
        frontier.push(r);
      }
    }
    return out;
  }

  /**
   * The kind and inheritance family of each of `relations` the catalog knows (a relation it does
   * not know is left out, and asked again next time). One query for all those not cached.
   */
  async families(relations: Iterable<string>, caller?: Caller): Promise<Map<string, CatalogRelation>> {
    return this.relationsOf([...new Set(relations)], caller);
  }

  /** Forget what is known about `relations` (the field metadata showed a view where a table was cached), or everything. */
  forget(relations?: Iterable<string>): void {
    if (!relations) {
      this.relations.clear();
      this.views.clear();
      this.system = null;
      this.all = null;
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

  private async relationsOf(relations: string[], caller: Caller | undefined): Promise<Map<string, CatalogRelation>> {
    const now = Date.now();
    const out = new Map<string, CatalogRelation>();
    const missing: string[] = [];
    for (const r of relations) {
      const c = this.relations.get(r);
      if (this.fresh(c, now)) {
        out.set(r, c.value);
        notePrint(caller?.relationPrints, r, c.value.print);
      } else missing.push(r);
    }
    if (missing.length === 0) return out;
    // A relation the catalog does not know is not cached: it may be created the next moment,
    // and PostgreSQL refuses a statement that reads it anyway.
    for (const [r, info] of await this.reader.relations(missing, caller)) {
      this.relations.set(r, { at: now, value: info });
      notePrint(caller?.relationPrints, r, info.print);
      out.set(r, info);
    }
    return out;
  }

  /** Each view's definition, analysed (a refusal when the catalog no longer has it; remembered like a definition otherwise). */
  private async definitionsOf(views: string[], caller: Caller | undefined): Promise<Map<string, AnalysedView>> {
    const now = Date.now();
    const out = new Map<string, AnalysedView>();
    const missing: string[] = [];
    for (const v of views) {
      const c = this.views.get(v);
      if (this.fresh(c, now)) {
        out.set(v, c.value);
        notePrint(caller?.viewPrints, v, c.print);
      } else missing.push(v);
    }
    if (missing.length === 0) return out;
    const found = new Map((await this.reader.viewDefinitions(missing, caller)).map((d) => [d.name, d]));
    for (const v of missing) {
      const def = found.get(v);
      if (!def) {
        const why = 'the catalog no longer has its definition';
        out.set(v, { columns: viewRefusal(v, why), reach: why, reads: [], calls: [], readColumns: [] });
        continue;
      }
      // Remembered refused too: an unanalysable view costs no round trip per call either.
      const analysed = analyseDefinition(def);
      this.views.set(v, { at: now, value: analysed, print: def.print ?? null });
      notePrint(caller?.viewPrints, v, def.print);
      out.set(v, analysed);
    }
    return out;
  }

  /**
   * Every relation of the database (cached like the rest), or null when the reader cannot say:
   * what an unanalysed trigger function could touch (write-reach.ts).
   */
  async allRelations(caller?: Caller): Promise<readonly string[] | null> {
    if (!this.reader.allRelations) return null;
    const now = Date.now();
    if (this.fresh(this.all ?? undefined, now)) return this.all!.value;
    const value = await this.reader.allRelations(caller);
    this.all = { at: now, value };
    return value;
  }

  /** Every relation of the system schemas (cached like the rest). */
  private async systemRelations(caller: Caller | undefined): Promise<readonly string[]> {
    const now = Date.now();
    if (this.fresh(this.system ?? undefined, now)) return this.system!.value;
    const value = await this.reader.systemRelations(caller);
    this.system = { at: now, value };
    return value;
  }
}
