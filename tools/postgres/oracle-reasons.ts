/**
 * Why a write-side oracle answers for a masked value (constraint-oracles.ts): which masked column a
 * definition reads, the reason a CHECK, computed key, generated column, partition key, trigger,
 * rule or policy would tell something of it, and the refusal naming that definition. Shared with
 * validate-oracles.ts.
 */
import { ErrorCode, WardenError, type MaskingContext } from '../../src/tool-api.js';
import type { TableConstraint } from './constraint-catalog.js';
import { notBlind, triggerFires } from './trigger-bodies.js';

/** The first masked column among `columns` of `tables` (as schema.table.column), or null. */
export function maskedOf(m: MaskingContext, tables: readonly string[], columns: readonly string[]): string | null {
  for (const c of columns) {
    for (const t of tables) if (m.columns.some((mc) => mc.column === `${t}.${c}`)) return `${t}.${c}`;
  }
  return null;
}

/** The first masked column of any of `tables`, or null (a whole row). */
export function anyMasked(m: MaskingContext, tables: readonly string[]): string | null {
  const hit = m.columns.find((mc) => tables.includes(mc.column.slice(0, mc.column.lastIndexOf('.'))));
  return hit ? hit.column : null;
}

/** A masked column and why a definition answers for it, or null. */
export type Why = { masked: string; why: string } | null;

/** A CHECK's or unique index's answer about a masked column it reads, or null (see the top of constraint-oracles.ts). */
export function checkWhy(k: TableConstraint, m: MaskingContext, tables: string[], cols: string[], written: string[], exact: boolean, kind: string): Why {
  const masked = k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, exact ? cols.filter((c) => !written.includes(c)) : cols);
  if (!masked) return null;
  const why = !k.validated
    ? 'it was added NOT VALID, so the rows it was never checked on are checked now'
    : k.mutable || k.opaque
      ? 'it calls a function that is not IMMUTABLE or lies outside pg_catalog, so its result may change with nothing written'
      : !exact
        ? kind === 'p'
          ? 'the table is partitioned, and a row the UPDATE moves is checked by the CHECKs of the partition it moves to'
          : 'what the statement writes is not known column by column (a whole row, a view, or an INSERT ... ON CONFLICT DO UPDATE)'
        : k.wholeRow || cols.some((c) => written.includes(c))
          ? 'the statement writes another column it reads'
          : null;
  return why ? { masked, why: `${why}; its success or failure tells whether the masked value ${k.type === 'i' ? 'enters its computed key or predicate' : 'satisfies it'}` } : null;
}

/**
 * What else an UPDATE computes from a row it writes, and may fail on for some values (a division
 * by zero, a cast, a routing failure, a policy violation, user code), answering for a masked
 * value the statement leaves as it is; or null.
 */
export function computedWhy(k: TableConstraint, m: MaskingContext, tables: string[], cols: string[], written: string[], columnwise: boolean, moves: boolean): Why {
  const writes = !columnwise || k.wholeRow || cols.some((c) => written.includes(c));
  const fails = 'its success or failure tells something of the masked value';
  switch (k.type) {
    case 'g':
    case 'x': {
      // Computed again from the row only when a column it reads changes; writing the masked column computes over the statement's own value.
      const masked = k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, columnwise ? cols.filter((c) => !written.includes(c)) : cols);
      if (!masked) return null;
      if (k.mutable || k.opaque) return { masked, why: `it calls a function that is not IMMUTABLE or lies outside pg_catalog; ${fails}` };
      // A row moved to another partition is inserted there, computed anew by that partition's definitions.
      return writes || moves ? { masked, why: `the statement writes another column it reads, or moves the row between partitions, so it is computed anew over the masked value; ${fails}` } : null;
    }
    case 'k': {
      // Routing, and a partition's bound, evaluate every key of the family over the new row.
      const masked = k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, columnwise ? cols.filter((c) => !written.includes(c)) : cols);
      if (!masked) return null;
      if (k.mutable || k.opaque) return { masked, why: `it calls a function that is not IMMUTABLE or lies outside pg_catalog; ${fails}` };
      return moves ? { masked, why: `the statement writes a column of a partition key of the table's family, so the row is routed (or checked against its partition's bound) by keys computed over the masked value; ${fails}` } : null;
    }
    case 't': {
      // A trigger with an UPDATE OF list fires only when the statement names one of them; a partition's INSERT or DELETE one when a row moves.
      const masked = triggerFires(k, columnwise, written, moves) ? anyMasked(m, tables) : null;
      const blind = masked ? notBlind(k, m, tables, columnwise ? written : null) : null;
      return masked && blind ? { masked, why: `it fires on the UPDATE, and its WHEN clause and function see the whole row, masked values included, and Warden does not read them as blind to the masked columns (${blind}); ${fails}` } : null;
    }
    case 'r': {
      const masked = anyMasked(m, tables);
      return masked ? { masked, why: `the rule rewrites the UPDATE into actions that see the whole row, masked values included; ${fails}` } : null;
    }
    default: {
      // A row-level security policy: it filters the rows an UPDATE reaches (the row count answers) and checks those it writes.
      const masked = k.opaque ? anyMasked(m, tables) ?? m.columns[0]!.column : k.wholeRow ? anyMasked(m, tables) : maskedOf(m, tables, cols);
      return masked ? { masked, why: `it ${k.opaque ? 'may read any relation (a subquery, or a function outside pg_catalog)' : 'reads the masked column'}, and it filters the rows the UPDATE reaches and checks the rows it writes; the row count or a policy violation tells something of the masked value` } : null;
    }
  }
}

/** How a refusal names each kind of definition (TableConstraint.type). */
const NOUNS: Record<TableConstraint['type'], string> = {
  c: 'checked by constraint', f: 'checked by constraint', i: 'checked by unique index', x: 'read by index', g: 'read by generated column',
  k: 'read by partition key', t: 'read by trigger', r: 'read by rule', y: 'read by row-level security policy', a: 'changed by foreign key',
  o: 'changed by foreign key', z: 'sized by index',
};

/** The refusal (WARDEN_DENIED, rule masking.columns) of a statement whose definition `k` would answer for masked `column`. */
export function oracle(column: string, k: Pick<TableConstraint, 'table' | 'name'> & { type?: TableConstraint['type'] }, why: string, allowed: string): WardenError {
  const named = `${NOUNS[k.type ?? 'c']}${k.name ? ` ${k.name}` : ''} of ${k.table}`;
  return new WardenError(
    ErrorCode.DENIED,
    `masked column ${column} would be ${named}, a definition the statement does not show: ${why}; ` +
      `under masks this is refused (${allowed})`,
    { ruleIds: ['masking.columns'], reason: 'masked column checked by a definition the statement does not show' },
  );
}
