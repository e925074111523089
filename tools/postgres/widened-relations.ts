/**
 * Deny rules judge what a statement reaches, not only what it names. The policy decided on the
 * relations the statement names; what they reach is asked from the catalog afterwards
 * (ViewCatalog.reach) and widened here, then the deny rules judge the widened facts again
 * (widened-denies.ts; describe_database the same way, describe-reach.ts):
 * - inheritance (inheritance.ts): a relation named without ONLY reaches its descendants' rows,
 *   which are also the rows of their other ancestors (multiple inheritance); a child's rows are
 *   its ancestors' rows, ONLY or not;
 * - views and materialized views: reading one reads every relation its definition reads (also
 *   in a WHERE, a subquery or a join whose columns it does not show), named with ONLY or not as
 *   the definition names them, and calls the functions it calls; views of views are followed;
 * - a system view (pg_catalog, information_schema) is not analysed: it reads only system
 *   catalogs, so it counts as reading every one of them;
 * - a write (INSERT, UPDATE, DELETE) to a view is a write to every relation its definition reads
 *   (the base table of an updatable view, and, a refusal too many at worst, the tables of its
 *   subqueries); DDL on a view changes the view, not the rows it shows;
 * - a change of rows also changes what cascading foreign keys reach (followed in turn), and calls
 *   the functions of the triggers it fires and of the expressions it evaluates (a CHECK, DEFAULT,
 *   generated column, index expression, a domain's CHECK or DEFAULT), each as the change causes
 *   it (write-runs.ts: a DELETE evaluates no expression; an UPDATE a DEFAULT or domain CHECK only
 *   of a column it sets); a rule on a written relation cannot be followed
 *   (write-reach.ts, which also judges triggers whose functions deny rules cannot trust);
 * - a change of rows reads the tables its foreign key checks read (key-checks.ts: the referenced
 *   table on an INSERT or an UPDATE of the key, a NO ACTION or RESTRICT referencing table on a
 *   DELETE or an UPDATE of the referenced key), whose failure would tell what they hold; so does
 *   DDL that checks the keys of existing rows (VALIDATE CONSTRAINT, ALTER COLUMN TYPE: checksKeys),
 *   every key of the altered table on either side, cascading ones too (the catalog alone knows
 *   which key it checks).
 * Written columns (SqlFacts.writtenColumns, for `write_columns:` denies) widen with their
 * relations: a column written on a relation is written, by the same name, on the ancestors and
 * descendants its write reaches (inherited columns and partitions keep their names); a column
 * written through a view is written on the base column it shows when the view's column is a
 * plain reference to one (an updatable view's), and otherwise (a computed column, a view whose
 * columns are not known) every relation the view reads is written whole, as is the referencing
 * table of a cascading foreign key and any relation a whole-row write reaches: fail closed.
 * A view whose definition is not understood, or that calls a function whose reads deny rules
 * cannot see, cannot be followed; nor can a foreign table (foreign-tables.ts), reached by name
 * (ONLY or not), through a view, or as a descendant of a relation named without ONLY, read or
 * written: the caller refuses either while a deny rule could apply (reachRefusal).
 * Allow rules are not widened: a grant on a view (or a parent) covers what is read through it.
 * Pure: the catalog answers come from view-catalog.ts.
 */
import { CHECKS_KEYS } from './analysis/kinds.js';
import type { SourceColumn, SqlFacts } from './analysis/types.js';
import { FOREIGN_WHY } from './foreign-tables.js';
import { checksRun } from './key-checks.js';
import type { Path, Step, Unfollowable } from './reach-paths.js';
import type { RelationFamily } from './inheritance.js';
import type { ViewReach } from './view-lineage.js';
import type { CatalogRelation } from './view-reader.js';
import { ALL_EVENTS, cascadeEvents, runsOn, statementEvents } from './write-runs.js';

/** What the catalog says about the relations a statement reaches (ViewCatalog.reach). */
export interface CatalogReach {
  /** The inheritance family of every relation met that the catalog knows. */
  families: ReadonlyMap<string, RelationFamily & Pick<CatalogRelation, 'sideEffects' | 'cascades' | 'cascadeActions' | 'keyChecks' | 'triggers'>>;
  /** Each view met: what its definition reaches, or why deny rules cannot follow it. */
  views: ReadonlyMap<string, ViewReach | string>;
  /** System views met (not analysed): each reaches every relation of `system`. */
  systemViews: ReadonlySet<string>;
  /** Every relation of the system schemas (empty when no system view was met). */
  system: readonly string[];
  /** Foreign tables among the relations met (pg_class.relkind 'f'): deny rules cannot follow them. */
  foreign: ReadonlySet<string>;
}

/** The facts deny rules judge again, widened, and how each addition is reached. */
export interface Widened {
  reads: string[];
  writes: string[];
  /** The statement's written columns, widened (see the top of the file); by table, then column. */
  writtenColumns: SourceColumn[];
  functions: string[];
  /** How each relation or function added to reads, writes or functions is reached (the shortest way); empty when nothing was added. */
  paths: ReadonlyMap<string, Path>;
  /** Views and foreign tables deny rules cannot follow: why, and how the statement reaches them. */
  unknown: ReadonlyMap<string, Unfollowable>;
  /**
   * Triggers the statement fires and expressions it evaluates that call a function (view-reader.ts
   * Trigger): each function (also in `functions`), what runs it in words ("trigger t on s.r",
   * "column s.r.c's DEFAULT") and how it is reached (write-reach.ts).
   */
  triggered: ReadonlyMap<string, Triggered>;
}

/** A function a write runs: what runs it, how, and whether its extension is trusted (view-reader.ts Trigger). */
export type Triggered = { fn: string; what: string; path: Path; trusted?: true };

/** The part of a statement's facts the widening starts from. */
export type NamedRelations = Pick<SqlFacts, 'statements' | 'reads' | 'writes' | 'onlyRelations' | 'functions'> & {
  constructs?: readonly string[];
  /** Without it (synthetic facts), every write counts as a whole-row write. */
  writtenColumns?: readonly SourceColumn[];
};

/** Statement kinds that change rows: through a view, they change what it reads. */
const ROW_CHANGES: ReadonlySet<string> = new Set(['insert', 'update', 'delete']);

/** `columns`: the columns written on `relation` ('*' the whole row), empty for a read; `events`: the changes of its rows (write-runs.ts). */
type Item = { relation: string; write: boolean; only: boolean; path: Path; columns: readonly string[]; events: number };

const WHOLE: readonly string[] = ['*'];

/**
 * The columns of each relation a view reads that a write of `columns` through it writes: the
 * base column a plain view column shows, else (a computed column, '*', columns unknown) every
 * relation the view reads, whole.
 */
function throughView(view: ViewReach, columns: readonly string[]): Map<string, Set<string>> {
  const out = new Map(view.reads.map((r) => [r, new Set<string>()]));
  for (const c of columns) {
    const l = c === '*' ? undefined : view.columns?.get(c);
    const s = l && !l.derived && l.sources.length === 1 ? l.sources[0]! : null;
    if (s && s.column !== '*' && out.has(s.table)) out.get(s.table)!.add(s.column);
    else for (const set of out.values()) set.add('*');
  }
  return out;
}

/** Whether the statement changes rows (firing triggers, rules and cascading foreign keys): not when it is only EXPLAINed. */
export function changesRows(named: Pick<NamedRelations, 'statements' | 'constructs'>): boolean {
  const rows = named.statements.some((k) => ROW_CHANGES.has(k)) || named.statements.includes('truncate');
  return rows && !(named.statements.includes('explain') && !named.constructs?.includes('explain_analyze'));
}

/**
 * Whether the statement is DDL that checks the foreign keys of a table's existing rows
 * (VALIDATE CONSTRAINT, ALTER COLUMN TYPE: analysis/kinds.ts CHECKS_KEYS), whose checks read
 * the other tables as a change of rows would.
 */
export function checksKeys(named: Pick<NamedRelations, 'constructs'>): boolean {
  return named.constructs?.includes(CHECKS_KEYS) ?? false;
}

/** Widen a statement's reads, writes and functions along inheritance and views (see the top of the file). */
export function widenRelations(named: NamedRelations, catalog: CatalogReach): Widened {
  const reads = new Set(named.reads);
  const writes = new Set(named.writes);
  const functions = new Set(named.functions);
  const paths = new Map<string, Path>();
  const unknown = new Map<string, Unfollowable>();
  const triggered = new Map<string, Triggered>();
  const throughViews = named.statements.some((k) => ROW_CHANGES.has(k));
  const rowsChange = changesRows(named);
  const keysChecked = checksKeys(named);
  // An addition is new to its set (a relation the statement reads may be reached as written).
  const add = (set: Set<string>, name: string, path: Path, step: Step): void => {
    if (set.has(name)) return;
    set.add(name);
    if (!paths.has(name)) paths.set(name, { from: path.from, steps: [...path.steps, step] });
  };
  const unfollowable = (relation: string, u: Unfollowable): void => {
    if (!unknown.has(relation)) unknown.set(relation, u);
  };
  const written = new Map<string, SourceColumn>();
  const writeColumns = (relation: string, columns: readonly string[], path: Path, step: Step | null): void => {
    for (const column of columns) {
      const key = `${relation}\u0000${column}`;
      if (written.has(key)) continue;
      written.set(key, { table: relation, column });
      if (step && !paths.has(relation)) paths.set(relation, { from: path.from, steps: [...path.steps, step] });
    }
  };
  const namedWritten = named.writtenColumns ?? named.writes.map((table) => ({ table, column: '*' }));
  for (const c of namedWritten) writeColumns(c.table, [c.column], { from: c.table, steps: [] }, null);
  const namedColumns = (relation: string): string[] => namedWritten.filter((c) => c.table === relation).map((c) => c.column);
  const events = statementEvents(named.statements);
  const root = (relation: string, write: boolean): Item => ({ relation, write, only: named.onlyRelations.includes(relation), path: { from: relation, steps: [] }, columns: write ? namedColumns(relation) : [], events: write ? events : 0 });
  const queue: Item[] = [...named.reads.map((r) => root(r, false)), ...named.writes.map((r) => root(r, true))];
  const seen = new Set<string>();
  for (let item = queue.shift(); item; item = queue.shift()) {
    const { relation, write, only, path, columns } = item;
    const key = `${write ? 'w' : 'r'}${only ? 'o' : 'a'}${item.events}\u0000${relation}\u0000${[...columns].sort().join('\u0000')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const into = write ? writes : reads;
    const family = catalog.families.get(relation);
    if (catalog.foreign.has(relation)) unfollowable(relation, { kind: 'foreign table', why: FOREIGN_WHY, path });
    // Inherited columns keep their names: the written ones are written on each relation reached.
    const reach = (set: Set<string>, to: string, from: Path, step: Step): void => {
      add(set, to, from, step);
      if (write) writeColumns(to, columns, from, step);
    };
    for (const a of family?.ancestors ?? []) reach(into, a, path, { to: a, how: 'ancestor' });
    if (!only && family) {
      const through = (d: string): Path => ({ from: path.from, steps: [...path.steps, { to: d, how: 'descendant' }] });
      for (const d of family.descendants) reach(into, d, path, { to: d, how: 'descendant' });
      for (const a of family.descendantsAncestors) reach(into, a.relation, through(a.via), { to: a.relation, how: 'ancestor' });
      for (const d of family.foreignDescendants) unfollowable(d, { kind: 'foreign table', why: FOREIGN_WHY, path: through(d) });
    }
    if (write && rowsChange) {
      // Changing its rows runs rules whose writes no facts name: deny rules cannot follow them.
      const effects = family?.sideEffects ?? [];
      if (effects.length) unfollowable(relation, { kind: 'write side effect', why: `changing its rows runs ${effects.slice(0, 3).join(', ')}${effects.length > 3 ? ' and more' : ''}`, path });
      // Foreign keys with ON DELETE/UPDATE CASCADE (SET NULL, SET DEFAULT) change the referencing table's rows (whole), as their actions say (write-runs.ts).
      const cascades = family?.cascades ?? [];
      for (const [i, r] of cascades.entries()) {
        const actions = family?.cascadeActions?.[i];
        const step: Step = { to: r, how: 'cascade', note: actions ?? 'that cascades' };
        add(writes, r, path, step);
        writeColumns(r, WHOLE, path, step);
        queue.push({ relation: r, write: true, only: false, path: { from: path.from, steps: [...path.steps, step] }, columns: WHOLE, events: cascadeEvents(actions, item.events) });
      }
      // Foreign key checks read the other table (key-checks.ts): its families' rows, ONLY or not.
      for (const k of checksRun(family?.keyChecks ?? [], item.events, columns, (family?.descendants.length ?? 0) > 0)) {
        const step: Step = { to: k.reads, how: 'key check', note: k.key };
        add(reads, k.reads, path, step);
        queue.push({ relation: k.reads, write: false, only: false, path: { from: path.from, steps: [...path.steps, step] }, columns: [], events: 0 });
      }
      // Triggers (on their events) and expressions (as evaluated: write-runs.ts) run functions the statement calls (write-reach.ts judges them).
      for (const t of family?.triggers ?? []) {
        const onDescendant = t.on !== relation && family?.descendants.includes(t.on);
        if (only && onDescendant) continue;
        if (!runsOn(item.events, columns, t.events, t.expression ? t.column : undefined, !t.expression)) continue;
        const at: Path = onDescendant ? { from: path.from, steps: [...path.steps, { to: t.on, how: 'descendant' }] } : path;
        const step: Step = t.expression ? { to: t.fn, how: 'expression', note: t.name } : { to: t.fn, how: 'trigger', note: t.on === relation ? t.name : `${t.name} on ${t.on}` };
        add(functions, t.fn, at, step);
        // A trusted trigger function (moddatetime) sets a column of the row it fires for: written,
        // for `write_columns:` denies; the whole row when the catalog could not say which.
        if (!t.expression && t.trusted) writeColumns(t.on, t.column === undefined ? WHOLE : [t.column], at, step);
        const what = t.expression ? t.name : `trigger ${t.name} on ${t.on}`;
        // A CHECK may call more than one function, and overloads share a name: one untrusted is enough.
        const key = `${what}\u0000${t.fn}`;
        const had = triggered.get(key);
        if (!had || (had.trusted && !t.trusted)) triggered.set(key, { fn: t.fn, what, path: { from: at.from, steps: [...at.steps, step] }, ...(t.trusted ? { trusted: true } : {}) });
      }
    }
    if (write && keysChecked) {
      // DDL checking the existing rows' keys: which keys only the catalog knows, so every key
      // of the table, on either side and whatever its actions, reads the other table.
      const checks = [...checksRun(family?.keyChecks ?? [], ALL_EVENTS, WHOLE, false).map((k) => ({ reads: k.reads, key: k.key })),
        ...(family?.cascades ?? []).map((r, i) => ({ reads: r, key: `${family?.cascadeActions?.[i] ?? ''} of ${r}`.trim() }))];
      for (const k of checks) {
        const step: Step = { to: k.reads, how: 'key check', note: k.key };
        add(reads, k.reads, path, step);
        queue.push({ relation: k.reads, write: false, only: false, path: { from: path.from, steps: [...path.steps, step] }, columns: [], events: 0 });
      }
    }
    if (write && !throughViews) continue;
    if (catalog.systemViews.has(relation)) {
      for (const s of catalog.system) {
        const step: Step = { to: s, how: 'system' };
        add(into, s, path, step);
        if (write) writeColumns(s, WHOLE, path, step); // its columns are not known: whole rows
      }
      continue;
    }
    const view = catalog.views.get(relation);
    if (view === undefined) continue;
    if (typeof view === 'string') {
      unfollowable(relation, { kind: 'view', why: view, path });
      continue;
    }
    for (const f of view.functions) add(functions, f, path, { to: f, how: 'call' });
    const onto = write ? throughView(view, columns) : new Map<string, Set<string>>();
    for (const r of view.reads) {
      const step: Step = { to: r, how: 'view' };
      const via = [...(onto.get(r) ?? [])];
      add(into, r, path, step);
      if (write) writeColumns(r, via, path, step);
      queue.push({ relation: r, write, only: view.only.includes(r), path: { from: path.from, steps: [...path.steps, step] }, columns: via, events: item.events });
    }
  }
  const writtenColumns = [...written.values()].sort((a, b) => (a.table === b.table ? (a.column < b.column ? -1 : 1) : a.table < b.table ? -1 : 1));
  return { reads: [...reads].sort(), writes: [...writes].sort(), writtenColumns, functions: [...functions].sort(), paths, unknown, triggered };
}
