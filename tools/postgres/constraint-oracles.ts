/**
 * Write-side oracles on masked columns: a constraint the catalog holds, evaluated on a row whose
 * masked value the statement did not write, answers by success or failure (SQLSTATE 23514 or
 * 23503) a question about that value that the masks never judged. Under masks:
 * - UPDATE (an INSERT ... ON CONFLICT DO UPDATE too) of a table with a CHECK, or a unique or
 *   exclusion index whose key is computed (an expression, a partial index's predicate, an
 *   exclusion operator: `UNIQUE (name) WHERE ascii(email) < 100` answers `SET name = 'taken'`
 *   by 23505 exactly when the row's email satisfies the predicate), that reads a
 *   masked column the statement leaves as it is: refused when the CHECK was added NOT VALID
 *   (`UPDATE t SET id = id WHERE id = 5` evaluates it on row 5), when the statement writes
 *   another column the CHECK reads (`SET lim = 10` under `CHECK (length(email) < lim)`), when
 *   the CHECK may change with nothing written (a function that is not IMMUTABLE, or one outside
 *   pg_catalog), when the table is partitioned (a row an UPDATE moves is checked by the other
 *   partition's CHECKs), or when what the statement writes is not known column by column (a
 *   whole row, a view, an upsert). A validated, immutable CHECK over columns the UPDATE does not
 *   write held before and holds again: that UPDATE runs (a unique index's key is checked only
 *   when it changes). A unique index over plain columns compares values as they are (equal
 *   values, which `GROUP BY` tells under masks too): not judged. A foreign key is checked on an UPDATE
 *   only when its columns change, from the values the statement writes (an equality test of a
 *   constant, as `WHERE email = $1` is under masks): not judged here.
 * - UPDATE, beside CHECKs and computed unique keys, of a table whose stored generated column,
 *   index of any kind with an expression or predicate, or partition key (of its family or its
 *   ancestors) reads a masked column the statement leaves as it is: computed anew over the
 *   masked value when the statement writes another column it reads (`SET note = 'c'` under
 *   `GENERATED ALWAYS AS (1 / (ascii(email) - ascii(note)))` divides by zero exactly when the
 *   email starts with 'c'), or when the row may move between partitions; refused then, or when
 *   it is not IMMUTABLE. A CHECK or index over a generated column reads what that column reads.
 *   A trigger firing on the UPDATE (or on INSERT or DELETE of a partition a row may move
 *   between) and a rule ON UPDATE, of a table with a masked column, see the whole row: refused,
 *   but a trigger read as blind to the masked columns (trigger-bodies.ts; what it names is written).
 *   A row-level security policy reading a masked column (or any relation: a subquery) filters
 *   the rows reached and checks the rows written: refused. A foreign key into the table with an
 *   ON UPDATE action (CASCADE, SET NULL, SET DEFAULT), when the statement writes a column it
 *   references (or may: a whole row, an upsert; not `SET id = id`, nor an upsert's `SET id = t.id`, fk-actions.ts), updates the referencing rows' key columns:
 *   judged as that UPDATE (`UPDATE parent SET id = id + 100` under the child's `CHECK (pid <
 *   100 OR ascii(email) <> 99)`), followed on through their own keys, each table and key once.
 *   An index holding a masked column beside a written one has a row size limit: sized-writes.ts.
 * - DELETE (or MERGE) of a table with a trigger or rule acting on DELETE, when the table has a
 *   masked column, not read as blind (its WHEN clause, function or actions see the deleted row: `WHEN (ascii(OLD.email)
 *   = 99)` raising, or `DO ALSO INSERT ... VALUES (1 / (ascii(OLD.email) - 99))`, fails exactly
 *   for such a row, and the failure rolls back, so it repeats); or a row-level security policy
 *   FOR DELETE or ALL reading a masked column (or any relation): refused. A policy's filter is
 *   a predicate the statement does not show, so it is not judged as an outermost WHERE is.
 *   A foreign key into the table with an ON DELETE action is followed: CASCADE deletes the
 *   referencing rows (judged again), SET NULL or SET DEFAULT updates their key columns (judged
 *   as that UPDATE: `CHECK (pid IS NOT NULL OR ascii(email) <> 99)`).
 * - ALTER TABLE ... VALIDATE CONSTRAINT: validate-oracles.ts.
 * A mask on a relation's ancestor or descendant holds on its column of the same name (the
 * widened masks, view-masking.ts); the relation written counts for its descendants' rows.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import type { ConstraintCatalog, RelationConstraints, TableConstraint } from './constraint-catalog.js';
import type { Caller } from './pool-shares.js';
import type { ViewCatalog } from './view-catalog.js';
import { ALLOWED_SIZED, sizedWhy } from './sized-writes.js';
import { ACTIONS, actionUpdate, unchangedKeys, upsertUnchangedKeys } from './fk-actions.js';
import { notBlind, withTriggerWrites } from './trigger-bodies.js';
import { anyMasked, checkWhy, computedWhy, maskedOf, oracle } from './oracle-reasons.js';
import { changesRows } from './widened-relations.js';

/** What the write-side oracles read of a statement's facts (a foreign key's action is judged as such a statement). */
type Written = Pick<SqlFacts, 'statements' | 'writes' | 'writtenColumns' | 'constructs' | 'setSizes'>;

/** Relation kinds whose rows an UPDATE changes directly (pg_class.relkind: table, partitioned table). */
const TABLES = new Set(['r', 'p']);

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) an UPDATE whose CHECK constraints would answer a
 * question about a masked value it leaves as it is (see the top of the file). `m`: the widened masks;
 * `params` the statement's ($n, sized-writes.ts); `seen` the tables and key columns a foreign key's
 * ON UPDATE action already reached (each followed once).
 */
export async function checkUpdateOracles(facts: Written, m: MaskingContext, constraints: ConstraintCatalog, views: ViewCatalog, caller?: Caller,
  params: readonly unknown[] = [], seen = new Set<string>()): Promise<void> {
  if (!m.columns.length || !facts.statements.includes('update') || !facts.writes.length || !changesRows(facts)) return;
  const known = await constraints.of(facts.writes, caller);
  // Written through a view: its base tables, whose columns the statement writes are not known here.
  // (One the catalog does not know is not written: PostgreSQL refuses the statement.)
  const viaViews = [...known].filter(([, k]) => k && !TABLES.has(k.kind)).map(([r]) => r);
  const reachedBases = viaViews.length ? [...(await views.reached(viaViews, caller)).relations].filter((r) => !viaViews.includes(r)) : [];
  const bases = reachedBases.filter((r) => !known.has(r));
  const baseKnown = bases.length ? await constraints.of(bases, caller) : new Map<string, RelationConstraints | null>();
  const upsert = facts.statements.includes('insert');
  for (const [relation, info] of [...known, ...baseKnown]) {
    // A view holds no CHECK or index: its base tables' are judged (as written whole).
    if (!info) continue;
    // A table written directly and through a view too (writable CTEs) is written whole: the view's columns are not known here.
    const listed = facts.writes.includes(relation) && !reachedBases.includes(relation) ? facts.writtenColumns.filter((c) => c.table === relation).map((c) => c.column) : ['*'];
    // Columns written one by one (not a whole row, a view's base, an upsert): whether a trigger fires, a row moves.
    const columnwise = !upsert && !listed.includes('*');
    const exact = columnwise && info.kind === 'r';
    // A generated column is written when a column its expression reads is; one a definition reads stands for those it reads.
    const generated = new Map(info.constraints.filter((k) => k.type === 'g').map((k) => [`${k.table}.${k.name}`, k.columns]));
    const reads = (k: TableConstraint) => [...new Set(k.columns.flatMap((c) => [c, ...(generated.get(`${k.table}.${c}`) ?? [])]))];
    const derive = (cols: string[]) => {
      const written = [...cols, ...[...generated].filter(([, gc]) => gc.some((c) => cols.includes(c))).map(([g]) => g.slice(g.lastIndexOf('.') + 1))];
      // A row moves (or meets its partition's bound) when a partition key of its family or ancestors reads a written column.
      return { written, moves: !columnwise || info.constraints.some((k) => k.type === 'k' && reads(k).some((c) => written.includes(c))) };
    };
    // A blind trigger that fires may set any column it names through NEW or OLD: written too.
    const { written, moves } = columnwise ? withTriggerWrites(info.constraints, listed, derive, m, relation) : derive(listed);
    const unchanged = columnwise ? unchangedKeys(facts.setSizes, relation, info.constraints, written, moves)
      : upsert ? upsertUnchangedKeys(facts.setSizes, relation, info.constraints, listed, written, [...generated.keys()].map((g) => g.slice(g.lastIndexOf('.') + 1))) : [];
    // A BEFORE INSERT row trigger may change the row an upsert's EXCLUDED shows.
    const insertTriggered = upsert && info.constraints.some((k) => k.type === 't' && k.events.includes('b'));
    for (const k of info.constraints) {
      // A trigger, rule or policy acting only on DELETE (or a partition's INSERT, but no row moves here) is not the UPDATE's.
      if (k.type === 'f' || k.type === 'a' || (COMPUTED_EVENTS.has(k.type) && !/[um]/.test(k.events))) continue;
      const tables = [k.table, relation];
      if (k.type === 'o') {
        // A foreign key's ON UPDATE action, when the statement may change a referenced column (a generated one too): the
        // referencing rows' key columns are updated (to the new key, NULL or the default), judged as that UPDATE.
        const key = `${k.table}\u0000${k.columns.join('\u0000')}`;
        if (seen.has(key) || !(listed.includes('*') || k.refColumns.some((c) => written.includes(c) && !unchanged.includes(c)))) continue;
        seen.add(key);
        const via = `, reached through foreign key ${k.name} of ${k.table} ON UPDATE ${ACTIONS[k.events] ?? 'SET NULL or SET DEFAULT'}`;
        const update = actionUpdate(k);
        await checkUpdateOracles(update, m, constraints, views, caller, [], seen).catch((e: unknown) => {
          throw e instanceof Error && e.message.includes(', reached through foreign key ') ? e : reached(e, via);
        });
        continue;
      }
      if (k.type === 'z') {
        // A DO UPDATE never moves a row between partitions (PostgreSQL refuses it).
        const why = sizedWhy(k, m, tables, relation, listed, written.filter((c) => !listed.includes(c)), facts.setSizes, params, upsert, moves && !upsert, insertTriggered);
        if (why) throw oracle(why.masked, k, why.why, ALLOWED_SIZED);
        continue;
      }
      const why = COMPUTED.has(k.type) ? computedWhy(k, m, tables, reads(k), written, columnwise, moves) : checkWhy(k, m, tables, reads(k), written, exact, info.kind);
      if (why) throw oracle(why.masked, k, why.why, ALLOWED_UPDATE);
    }
  }
}

/** The kinds that act on some row events only (TableConstraint.events). */
const COMPUTED_EVENTS = new Set<TableConstraint['type']>(['t', 'r', 'y']);

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) a DELETE (or a MERGE, which may delete) of a table
 * whose trigger or rule acting on DELETE sees a row with a masked column, or whose row-level
 * security policy for DELETE (or ALL) reads a masked column or may read any relation (see the top
 * of the file): it computes over the masked value of each row the statement deletes, and its
 * failure (rolled back, so repeatable) or the row count answers. `m`: the widened masks.
 */
export async function checkDeleteOracles(facts: Written, m: MaskingContext, constraints: ConstraintCatalog, views: ViewCatalog, caller?: Caller): Promise<void> {
  if (!m.columns.length || !facts.writes.length || !facts.statements.some((s) => s === 'delete' || s === 'merge') || !changesRows(facts)) return;
  // Which relation a statement with several writes deletes from is not told: each written one counts.
  const known = await constraints.of(facts.writes, caller);
  const viaViews = [...known].filter(([, k]) => k && !TABLES.has(k.kind)).map(([r]) => r);
  const bases = viaViews.length ? [...(await views.reached(viaViews, caller)).relations].filter((r) => !known.has(r)) : [];
  const baseKnown = bases.length ? await constraints.of(bases, caller) : new Map<string, RelationConstraints | null>();
  await judgeDeleted([...known, ...baseKnown], m, constraints, views, new Set(facts.writes), caller);
}

/**
 * Judge the rows deleted from `relations`, then those a foreign key's ON DELETE action changes in
 * the tables referencing them (CASCADE deletes them, judged here again; SET NULL or SET DEFAULT
 * updates their key columns, judged as that UPDATE: checkUpdateOracles), each table once.
 */
async function judgeDeleted(relations: [string, RelationConstraints | null][], m: MaskingContext, constraints: ConstraintCatalog, views: ViewCatalog, seen: Set<string>, caller?: Caller): Promise<void> {
  const deletes = new Map<string, string>();
  for (const [relation, info] of relations) {
    for (const k of info?.constraints ?? []) {
      if (k.type === 'a') {
        const via = `, reached through foreign key ${k.name} of ${k.table} ON DELETE ${ACTIONS[k.events] ?? 'SET NULL or SET DEFAULT'}`;
        if (k.events === 'D') {
          if (!seen.has(k.table) && !deletes.has(k.table)) deletes.set(k.table, via);
          continue;
        }
        const update = actionUpdate(k);
        await checkUpdateOracles(update, m, constraints, views, caller).catch((e: unknown) => { throw reached(e, via); });
        continue;
      }
      if (!COMPUTED_EVENTS.has(k.type) || !k.events.includes('d')) continue;
      const tables = [k.table, relation];
      const masked = k.type !== 'y' ? anyMasked(m, tables)
        : k.opaque ? anyMasked(m, tables) ?? m.columns[0]!.column : k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, k.columns);
      if (!masked) continue;
      // Fired by the DELETE: NEW is NULL, a whole-row comparison in the body answers alike for every row.
      const blind = k.type === 't' ? notBlind(k, m, tables, null, true) : null;
      if (k.type === 't' && blind === null) continue;
      const why = k.type === 't' ? `it fires on the DELETE, and its WHEN clause and function see the deleted row, masked values included, and Warden does not read them as blind to the masked columns (${blind})`
        : k.type === 'r' ? 'the rule rewrites the DELETE into actions that see the deleted row, masked values included'
        : `it ${k.opaque ? 'may read any relation (a subquery, or a function outside pg_catalog)' : 'reads the masked column'}, and it filters the rows the DELETE reaches, a condition the statement does not show and Warden does not judge as it judges a WHERE`;
      throw oracle(masked, k, `${why}; the statement's success or failure (rolled back, so it can be repeated) or its row count tells something of the masked value`, ALLOWED_DELETE);
    }
  }
  if (!deletes.size) return;
  for (const t of deletes.keys()) seen.add(t);
  // One query for every table the cascades reach; each judged on its own, its refusal naming its foreign key.
  for (const [table, info] of await constraints.of([...deletes.keys()], caller)) {
    await judgeDeleted([[table, info]], m, constraints, views, seen, caller).catch((e: unknown) => {
      // A refusal deeper down names the last foreign key on its way.
      throw e instanceof Error && e.message.includes(', reached through foreign key ') ? e : reached(e, deletes.get(table)!);
    });
  }
}

/** A refusal met through a foreign key's action, saying which; anything else as it is. */
function reached(e: unknown, via: string): unknown {
  if (!(e instanceof WardenError) || e.code !== ErrorCode.DENIED) return e;
  const at = e.message.indexOf('; under masks this is refused');
  return new WardenError(e.code, at < 0 ? e.message + via : e.message.slice(0, at) + via + e.message.slice(at), e.details);
}

const ALLOWED_DELETE = 'a DELETE of a table whose DELETE triggers are blind to the masked columns (README), with no DELETE rule, and whose row-level security policies for DELETE read none runs; ' +
  'a condition on the masked column written in the statement\'s outermost WHERE is judged as usual';

/** The kinds judged by computedWhy: what else an UPDATE computes from the row beside CHECKs and computed keys. */
const COMPUTED = new Set<TableConstraint['type']>(['g', 'x', 'k', 't', 'r', 'y']);

const ALLOWED_UPDATE = 'an UPDATE that writes no column such a definition reads beside the masked one (or writes the masked column itself), ' +
  'of a table whose CHECKs over masked columns are validated and IMMUTABLE, whose triggers are blind to the masked columns (README: an updated_at stamp), ' +
  'with no rule, and whose row-level security policies read no masked column, runs';
