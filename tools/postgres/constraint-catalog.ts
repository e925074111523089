/**
 * The CHECK and foreign key constraints of a relation and its descendants, its indexes with a
 * computed key, and what else an UPDATE of it computes from a row (its generated columns, the
 * partition keys of its family and ancestors, its triggers and rules that fire on UPDATE or DELETE, its
 * row-level security policies, the foreign keys into it with an ON DELETE or ON UPDATE action, its
 * indexes holding several columns of variable length), as the catalog holds them, for the write-side oracles on masked
 * columns (constraint-oracles.ts): which columns each
 * reads (pg_constraint.conkey, and for a foreign key the referenced table's confkey), whether it
 * was validated (NOT VALID skips the existing rows, not the rows written later), and whether its
 * result may change without its columns changing (it calls a function, or an operator's
 * function, that is not IMMUTABLE) or may read anything (it calls a function outside pg_catalog
 * that no extension owns). Cached per relation for the catalog's TTL, forgotten after a write
 * (connector.ts), so a statement over known relations costs no round trip.
 */
import { nameSplits } from './user-casts.js';
import type { TriggerFacts } from './trigger-bodies.js';
import { CONSTRAINTS_SQL } from './constraint-catalog-sql.js';
import type { CatalogQuery } from './set-returning-calls.js';
import type { Caller } from './pool-shares.js';
import type { CatalogRecheck } from './catalog-lock.js';

/**
 * One CHECK (`c`) or foreign key (`f`) constraint of a relation or one of its descendants, or a
 * unique or exclusion index (`i`: a UNIQUE or PRIMARY KEY or EXCLUDE constraint's too) whose key
 * is computed (an expression, a predicate, an exclusion operator): it compares what it computes
 * from a row with what it computes from the others. Or what else PostgreSQL computes from a row
 * an UPDATE writes, and may fail on: an index of any other kind with a computed key (`x`), a
 * generated column (`g`, named by its column; `columns`: those its expression reads), a
 * partition key of the family or of an ancestor (`k`, no name), a trigger that fires on UPDATE
 * or DELETE (`t`; `columns`: its UPDATE OF list, none for any), a rule on UPDATE or DELETE (`r`),
 * a row-level security policy (`y`) of a table that has them enabled; `events` says which. Or a
 * foreign key of another table (`a`: `table` is the referencing one, `columns` the key columns its
 * action writes: all, or its `SET NULL (col, ...)` / `SET DEFAULT (col, ...)` list) into the
 * family whose ON DELETE action changes that table's rows: `events` `D` (CASCADE: deletes
 * them), `N` (SET NULL) or `S` (SET DEFAULT: either updates its key columns). Or such a foreign key with
 * an ON UPDATE action (`o`: `refColumns` the family's referenced columns; `events` `C` CASCADE,
 * `N` SET NULL or `S` SET DEFAULT: each updates the referencing key columns). Or an index of the
 * family of any access method but hash (`z`) whose plain key or INCLUDE columns hold two or more
 * of variable length (`columns`: those): its row has a size limit a written value may reach
 * beside a masked one (sized-writes.ts); `padded`: those of them a char(n) value is padded into;
 * `classes`: each one's type class.
 */
export interface TableConstraint {
  /** The table it is defined on (schema.name): the relation asked or a descendant. */
  table: string;
  name: string;
  type: ConstraintType;
  validated: boolean;
  /**
   * The columns of `table` it reads (a CHECK's, a foreign key's referencing columns). A trigger's
   * `validated` is whether it fires on UPDATE (false: on INSERT or DELETE of a partition, which
   * a row an UPDATE moves between partitions fires).
   */
  columns: string[];
  /** A CHECK or index reading the whole row (a row variable). */
  wholeRow: boolean;
  /** A foreign key's referenced table, with its ancestors and descendants (whose rows it holds or shares). */
  refTables: string[];
  /** A foreign key's referenced columns. */
  refColumns: string[];
  /** It calls a function (or an operator's function) that is not IMMUTABLE: its result may change with nothing written. */
  mutable: boolean;
  /** It calls a function outside pg_catalog that no extension owns: it may read anything. */
  opaque: boolean;
  /**
   * Of a trigger, rule or policy, the row events it acts on: `u` UPDATE, `d` DELETE, `i` INSERT,
   * `b` a BEFORE INSERT row trigger (it may change the row an upsert's EXCLUDED shows),
   * `m` a row moved between partitions (a partition's INSERT or DELETE trigger); empty for the
   * other kinds. A policy counts for the commands it applies to (FOR SELECT: an UPDATE's).
   */
  events: string;
  /**
   * Of a size-limited index (`z`), its columns of type char(n) (bpchar, directly or through a
   * domain), each with n: a value written is stored padded with blanks to n characters; 0 for
   * one whose padding is not read (an array of char(n) or of a domain, a domain over a domain).
   */
  padded?: Record<string, number>;
  /**
   * Of a size-limited index (`z`), each of its `columns`' type class: the name of its type through
   * domains when that is built in (`text`, `jsonb`, `_int4`), `citext`, `other`, or `operator
   * class` for a key column of an index that is not a btree (sized-writes.ts AS_TEXT reads it).
   */
  classes?: Record<string, string>;
  /** Of a trigger (`t`), what Warden reads to judge it blind to the masked columns (trigger-bodies.ts). */
  trigger?: TriggerFacts;
}

/** The kinds of TableConstraint (see there). */
export type ConstraintType = 'c' | 'f' | 'i' | 'x' | 'g' | 'k' | 't' | 'r' | 'y' | 'a' | 'o' | 'z';
const TYPES: readonly string[] = ['c', 'f', 'i', 'x', 'g', 'k', 't', 'r', 'y', 'a', 'o', 'z'];

/** What the catalog says of a relation: its kind (pg_class.relkind) and the constraints of its family. */
export interface RelationConstraints {
  kind: string;
  constraints: TableConstraint[];
}

type CatalogRow = { relation: string; kind: unknown; constraints: unknown; indexes: unknown; computed: unknown };

/** A catalog answer's constraints, fail closed: an answer not understood throws. */
function parse(row: CatalogRow): RelationConstraints {
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const ok = (k: unknown): k is TableConstraint => {
    const c = k as TableConstraint;
    return typeof k === 'object' && k !== null && typeof c.table === 'string' && typeof c.name === 'string' && TYPES.includes(c.type) &&
      typeof c.validated === 'boolean' && typeof c.wholeRow === 'boolean' && typeof c.mutable === 'boolean' && typeof c.opaque === 'boolean' && typeof c.events === 'string' &&
      strings(c.columns) && strings(c.refTables) && strings(c.refColumns) && (c.type !== 't' ? c.trigger === undefined : triggerOk(c.trigger)) &&
      (c.type !== 'z' ? c.padded === undefined && c.classes === undefined : paddedOk(c.padded) && classesOk(c.classes));
  };
  const paddedOk = (p: unknown): boolean => typeof p === 'object' && p !== null && !Array.isArray(p) &&
    Object.values(p).every((n) => Number.isInteger(n) && (n as number) >= 0);
  const classesOk = (p: unknown): boolean => typeof p === 'object' && p !== null && !Array.isArray(p) && Object.values(p).every((n) => typeof n === 'string');
  const triggerOk = (f: TriggerFacts | undefined): boolean => typeof f === 'object' && f !== null &&
    (f.refused === null || typeof f.refused === 'string') && (f.body === null || typeof f.body === 'string') && typeof f.when === 'boolean' &&
    strings(f.whenColumns) && typeof f.whenWholeRow === 'boolean' && typeof f.whenMutable === 'boolean' && typeof f.whenOpaque === 'boolean' &&
    strings(f.userTyped) && strings(f.shadowed) && typeof f.whenRowsDistinct === 'boolean' && typeof f.userEquality === 'boolean' &&
    (f.moddatetime === null || typeof f.moddatetime === 'string');
  if (typeof row.kind !== 'string' || !Array.isArray(row.constraints) || !row.constraints.every(ok) || !Array.isArray(row.indexes) || !row.indexes.every(ok) ||
    !Array.isArray(row.computed) || !row.computed.every(ok)) {
    throw new Error(`catalog answer for ${row.relation}: constraints not understood`);
  }
  return { kind: row.kind, constraints: [...row.constraints, ...row.indexes, ...row.computed] };
}

/** The catalog query for `relations` (each reading of a quoted '.' asked: nameSplits). */
function constraintsQuery(relations: readonly string[]): { text: string; values: unknown[] } {
  const splits = relations.flatMap((r) => nameSplits(r));
  return { text: CONSTRAINTS_SQL, values: [splits.map((s) => s[0]), splits.map((s) => s[1])] };
}

/** The catalog's rows by facts name: two readings of a name with a quoted '.' (nameSplits) answer for the same name, both count. */
function merged(rows: readonly CatalogRow[]): Map<string, RelationConstraints> {
  const found = new Map<string, RelationConstraints>();
  for (const row of rows) {
    const value = parse(row);
    const seen = found.get(row.relation);
    found.set(row.relation, seen ? { kind: seen.kind === 'r' ? value.kind : seen.kind, constraints: [...seen.constraints, ...value.constraints] } : value);
  }
  return found;
}

/** The constraints of relations, cached per connection (connector.ts). */
export class ConstraintCatalog {
  private cache = new Map<string, { at: number; value: RelationConstraints }>();

  constructor(
    private readonly query: CatalogQuery,
    private readonly ttlMs: number,
  ) {}

  /**
   * Each relation's kind and constraints (null: not in the catalog); one query for those not
   * cached. A write's caller keeps what it was told (Caller.judged), for recheck.
   */
  async of(relations: readonly string[], caller?: Caller): Promise<Map<string, RelationConstraints | null>> {
    const now = Date.now();
    const fresh = (r: string) => now - (this.cache.get(r)?.at ?? -Infinity) <= this.ttlMs;
    const ask = [...new Set(relations)].filter((r) => !fresh(r));
    let found = new Map<string, RelationConstraints>();
    if (ask.length) {
      const q = constraintsQuery(ask);
      found = merged((await this.query(q.text, q.values, caller)).rows as CatalogRow[]);
      // A relation not found is asked again next time (it may be created meanwhile).
      for (const [r, value] of found) this.cache.set(r, { at: now, value });
    }
    const out = new Map(relations.map((r) => [r, ask.includes(r) ? found.get(r) ?? null : this.cache.get(r)?.value ?? null]));
    if (caller?.judged) for (const [r, v] of out) caller.judged.set(r, JSON.stringify(v));
    return out;
  }

  /**
   * The re-read, inside a write's transaction, of the facts its checks were judged by
   * (`judged`, Caller.judged): the same query, uncached; `same` compares each relation's answer
   * (catalog-lock.ts). Null when the checks read none.
   */
  recheck(judged: ReadonlyMap<string, string>): CatalogRecheck | null {
    if (!judged.size) return null;
    const q = constraintsQuery([...judged.keys()]);
    return {
      ...q,
      same(rows) {
        const now = merged(rows as CatalogRow[]);
        return [...judged].every(([r, v]) => JSON.stringify(now.get(r) ?? null) === v);
      },
    };
  }

  /** Forget every answer (after a statement that may have added, dropped or validated a constraint). */
  forget(): void {
    this.cache.clear();
  }
}
