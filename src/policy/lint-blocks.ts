/**
 * Lint knowledge about the condition blocks Warden ships (`sql:`, `shell:`), kept apart from
 * the generic checks in lint.ts. It reads blocks as data and probes compiled conditions with
 * synthetic facts, so it never imports a family; a block it does not know is never judged
 * (no false alarms), and the engine stays the single source of truth for what matches.
 */
import type { CompiledCondition, Facts } from '../tool-api.js';
import { normaliseColumnName, normaliseTableName } from './sql-names.js';
import { functionKey } from '../sql-names.js';

type Block = Record<string, unknown>;

const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

/** Does a deny block match every call that an allow block with the same key grants? */
export function denyBlockCovers(key: string, deny: unknown, allow: unknown): boolean {
  const d = (deny ?? {}) as Block;
  const a = (allow ?? {}) as Block;
  if (key === 'sql') {
    if (!d.statements && !d.read && !d.write && !d.write_columns && !d.functions) return true; // an empty deny block matches every SQL call
    const denied = new Set((strings(d.statements) ?? []).map((s) => s.toLowerCase()));
    const granted = (strings(a.statements) ?? ['select']).map((s) => s.toLowerCase());
    return granted.length > 0 && granted.every((s) => denied.has(s)); // every call has a statement, each one denied
  }
  if (key === 'shell') {
    const dp = (d.programs ?? {}) as Record<string, Block>;
    const ap = Object.keys((a.programs ?? {}) as Record<string, Block>);
    const unrestricted = (g: Block | undefined) => !!g && !g.paths && !g.subcommands && !g.deny_flags;
    return ap.length > 0 && ap.every((p) => unrestricted(dp[p]));
  }
  return false;
}

/** Tables a block lets a rule read or write (`read:` / `write:` lists, `write_columns:` tables), normalised by SQL identifier rules. */
export function blockTables(block: unknown): string[] {
  const b = (block ?? {}) as Block;
  const columnTables = (strings(b.write_columns) ?? []).map((c) => normaliseColumnName(c)).map((c) => c.slice(0, c.lastIndexOf('.')));
  return [...[...(strings(b.read) ?? []), ...(strings(b.write) ?? [])].map(normaliseTableName), ...columnTables];
}

/**
 * For an allow `sql:` block: functions it lists that its own grant can never use (the
 * condition refuses them, e.g. never under a read grant). Probes the compiled condition.
 */
export function unusableFunctions(key: string, block: unknown, fn: CompiledCondition, families: string[]): { index: number; name: string; why: string }[] {
  if (key !== 'sql' || !families.includes('sql')) return [];
  const b = (block ?? {}) as Block;
  const fns = strings(b.functions) ?? [];
  const statements = (strings(b.statements) ?? ['select']).map((s) => s.toLowerCase());
  const out: { index: number; name: string; why: string }[] = [];
  fns.forEach((name, index) => {
    if (name.trim().startsWith('@')) return;
    const bare = functionKey(name);
    const probe = {
      family: 'sql',
      summary: `lint probe: ${bare}()`,
      statements,
      topLevel: statements[0] ?? 'select',
      reads: [],
      writes: [],
      writtenColumns: [],
      functions: [bare],
      constructs: [],
      output: [],
      hasStar: false,
      sql: '',
      readOnly: statements.every((s) => s === 'select'),
    } as Facts;
    const r = fn(probe, { tool: 'lint', connection: null, args: {} });
    if (!r.matched) out.push({ index, name, why: r.why });
  });
  return out;
}

/**
 * For an allow `sql:` block: functions it names outside pg_catalog (`public.f`, an extension's).
 * Under column masks query_database trusts such a function only because a grant names it, and
 * Warden does not read its body, so what the body reads is returned without column masks.
 */
export function trustedFunctionBodies(key: string, block: unknown): { index: number; name: string }[] {
  if (key !== 'sql') return [];
  const fns = strings(((block ?? {}) as Block).functions) ?? [];
  return fns.flatMap((name, index) => {
    const bare = functionKey(name);
    return !name.trim().startsWith('@') && bare.includes('.') ? [{ index, name }] : [];
  });
}
