/**
 * What a foreign key's action makes of the rows referencing a table an UPDATE or DELETE changes,
 * for the write-side oracles under masks (constraint-oracles.ts): the UPDATE each action makes of
 * the referencing key columns (SET NULL sized as NULL), and the referenced columns an UPDATE
 * leaves unchanged (`SET id = id`), which set off no ON UPDATE action in PostgreSQL.
 */
import type { SetSize, SqlFacts } from './analysis/types.js';
import type { TableConstraint } from './constraint-catalog.js';
import { blindTrigger, triggerFires } from './trigger-bodies.js';

/** The UPDATE an action makes, as the oracles read a statement. */
export type ActionUpdate = Pick<SqlFacts, 'statements' | 'writes' | 'writtenColumns' | 'constructs' | 'setSizes'>;

/** A foreign key action's name by its catalog code (TableConstraint.events of `a` and `o`). */
export const ACTIONS: Record<string, string> = { D: 'CASCADE', C: 'CASCADE', N: 'SET NULL', S: 'SET DEFAULT' };

/**
 * The UPDATE a foreign key's action (`a` ON DELETE, `o` ON UPDATE) makes of the referencing rows:
 * their key columns (an ON DELETE action's `columns` are those of its `SET NULL (col, ...)` list
 * when it has one: constraint-catalog-sql.ts) set to the new key (CASCADE), the default (SET
 * DEFAULT): computed, not sized;
 * or NULL (SET NULL): sized as `SET k = NULL` (sized-writes.ts), which shrinks an index row but
 * for its null bitmap, and is otherwise judged as any UPDATE writing those columns.
 */
export function actionUpdate(k: TableConstraint): ActionUpdate {
  const writtenColumns = k.columns.map((column) => ({ table: k.table, column }));
  return { statements: ['update'], writes: [k.table], writtenColumns, constructs: [], ...(k.events === 'N' ? { setSizes: writtenColumns.map((c) => ({ ...c, bytes: 0, none: true })) } : {}) };
}

/**
 * The columns of `relation` an UPDATE (column by column) sets to themselves only (`SET id = id`,
 * every SET item of the column so: SetSize.same) and nothing else may change: no trigger that
 * fires on the UPDATE names it through NEW or OLD (blind ones, trigger-bodies.ts), none fires that
 * is not read as blind (a table with no masked column runs such triggers unjudged: one may change
 * NEW.id), no rule rewrites the UPDATE, and the row stays in its partition. PostgreSQL then runs
 * no ON UPDATE action of a foreign key referencing it: its RI trigger is queued only when the
 * referenced key changed (trigger.c AfterTriggerSaveEvent, RI_FKey_pk_upd_check_required: the new
 * key's image equals the old, byte for byte).
 */
export function unchangedKeys(sizes: readonly SetSize[] | undefined, relation: string, ks: readonly TableConstraint[], written: readonly string[], moves: boolean,
  unset: readonly string[] = []): string[] {
  if (moves || ks.some((k) => k.type === 'r' && /[um]/.test(k.events))) return [];
  const touched = new Set<string>();
  for (const k of ks) {
    if (k.type !== 't' || !triggerFires(k, true, written, moves)) continue;
    const b = blindTrigger(k.trigger, [], written);
    if ('why' in b) return [];
    for (const c of b.columns) touched.add(c);
  }
  const mine = (sizes ?? []).filter((s) => s.table === relation);
  return [...new Set([...mine.map((s) => s.column), ...unset])].filter((c) => !touched.has(c) && mine.every((s) => s.column !== c || s.same === true));
}

/**
 * unchangedKeys for an upsert's DO UPDATE, which changes the existing row's columns its SET items
 * name (and those a BEFORE UPDATE trigger sets): a column set to itself (`SET id = t.id`) and a
 * column only the INSERT lists are unchanged, on unchangedKeys' conditions. `listed`: the INSERT's
 * and SET's columns; `generated`: the generated columns (computed anew, never counted). A family
 * with a partition key is not judged so (fail closed). Not `SET id = EXCLUDED.id`: the conflict
 * arbiter's equality is not the byte equality RI_FKey_pk_upd_check_required asks (numeric 1.0
 * and 1.00 conflict, and the ON UPDATE action runs).
 */
export function upsertUnchangedKeys(sizes: readonly SetSize[] | undefined, relation: string, ks: readonly TableConstraint[], listed: readonly string[],
  written: readonly string[], generated: readonly string[]): string[] {
  if (listed.includes('*') || ks.some((k) => k.type === 'k')) return [];
  const set = new Set((sizes ?? []).filter((s) => s.table === relation).map((s) => s.column));
  return unchangedKeys(sizes, relation, ks, written, false, listed.filter((c) => !set.has(c) && !generated.includes(c)));
}
