/**
 * describe_database's answer, from the catalog's column list of the granted relations: what
 * query_database would do with each, said in the description rather than found out by trial.
 * Deny rules follow views and inheritance (describe-reach.ts); masks too, and a view masking
 * cannot follow is refused (describe-masking.ts, which asks query_database's own masking), and
 * so is one that reaches values no mask follows while either applies (statistics-values.ts). The
 * catalog is asked once for every relation's kind and family, then once per level of view
 * nesting, the walk shared by both; nothing at all when no mask is configured and no
 * conditional deny applies.
 */
import type { MaskingContext } from '../../src/tool-api.js';
import { quotedIdentifierProblem } from './analysis/lexer.js';
import { relationAccess, type DeniedTables } from './describe-reach.js';
import { relationVerdict, type RelationVerdict } from './describe-masking.js';
import { columnWrites } from './describe-write-columns.js';
import { statisticsRefusal } from './statistics-values.js';
import { viewCallRefusal } from './function-bodies.js';
import type { ViewCatalog } from './view-catalog.js';
import type { Caller } from './pool-shares.js';
import { viewsToFollow } from './view-lineage.js';

/** One column as described: `masked` names the strategy query_database applies; `refused` says why it refuses the column. */
export interface DescribedColumn {
  name: string;
  type: string;
  masked?: string;
  refused?: string;
}

/**
 * One relation as described. `access` lists what the grants allow and query_database does:
 * empty when it refuses every read (`note` says why). `requires_only` lists the access kinds
 * that must name the relation as `ONLY schema.table`.
 */
export interface DescribedTable {
  table: string;
  access: string[];
  requires_only?: string[];
  /** With "write" access: the only columns that may be written (absent when every column may, whole-row writes included). */
  write_columns?: string[];
  /** Columns a deny rule forbids writing (whole-row writes of the relation are then refused too). */
  write_denied?: string[];
  note?: string;
  columns: DescribedColumn[];
}

const STAR_REFUSED = 'SELECT * is refused: a column computes a masked value (on_derived: deny); select the columns not marked refused by name';

/**
 * Why no statement can spell a relation (schema, table) or a column name, or null. Facts join
 * schema and table with '.', so a part holding one cannot be told apart from a qualified name
 * (analysis/context.ts); the lexer refuses quotes, backslashes and control characters in names.
 */
function nameProblem(...parts: string[]): string | null {
  for (const p of parts) {
    if (p.includes('.')) return `"${p}" holds a ".", which cannot be told apart from a qualified name`;
    const problem = quotedIdentifierProblem(p);
    if (problem) return `"${p}": ${problem}`;
  }
  return null;
}

type Relation = { unnameable: string | null; columns: DescribedColumn[] };

/** The granted relations' rows (schema, table, column, type), grouped in catalog order. */
function byRelation(rows: readonly (readonly string[])[]): Map<string, Relation> {
  const out = new Map<string, Relation>();
  for (const [schema, table, name, type] of rows) {
    const key = `${schema}.${table}`;
    let r = out.get(key);
    if (!r) out.set(key, (r = { unnameable: nameProblem(schema!, table!), columns: [] }));
    const unnameable = nameProblem(name!);
    // SELECT * still returns such a column, masked as the others: only naming it is refused.
    r.columns.push({ name: name!, type: type!, ...(unnameable ? { refused: `query_database cannot name it (${unnameable}); SELECT * returns it` } : {}) });
  }
  return out;
}

/**
 * Describe the relations of `rows` for a principal: `granted.write` the tables it may write,
 * the rest of `granted` what the conditional deny rules forbid, `masking` the policy's masks.
 */
export async function describeTables(
  rows: readonly (readonly string[])[],
  granted: DeniedTables & { write: ReadonlySet<string>; writeColumns: ReadonlyMap<string, ReadonlySet<string>>; deniedColumns: ReadonlyMap<string, ReadonlySet<string>> },
  masking: MaskingContext,
  catalog: ViewCatalog,
  grants: readonly Record<string, unknown>[] = [],
  /** Whose call it is: the catalog lookups count against its principal's share of the read pool (connector.ts). */
  caller?: Caller,
): Promise<DescribedTable[]> {
  const relations = byRelation(rows);
  const nameable = [...relations].filter(([, r]) => !r.unnameable).map(([key]) => key);
  const masked = masking.columns.length > 0;
  // The deny walk first: masking's walk is then answered from the cache.
  const reach = granted.conditional ? await catalog.reach(nameable, { writes: granted.write.size > 0 }, caller) : null;
  if (masked) await catalog.warm(nameable, viewsToFollow(masking.columns), caller);
  // Statistics, definitions or the schema's constants reached through a view: refused while masks or deny rules apply (statistics-values.ts).
  const guards = { masks: masked, denies: granted.conditional };
  const out: DescribedTable[] = [];
  for (const [key, r] of relations) {
    if (r.unnameable) {
      out.push({ table: key, access: [], note: `query_database cannot name it: ${r.unnameable}; every statement naming it is refused`, columns: r.columns });
      continue;
    }
    const access = relationAccess(key, reach, { write: granted.write.has(key) }, granted);
    if (access.hidden) continue;
    if (access.refused) {
      out.push({ table: key, access: [], note: access.refused, columns: r.columns });
      continue;
    }
    // A view calling a function outside pg_catalog no grant names: refused under masks (function-bodies.ts).
    const refused = (await statisticsRefusal(key, guards, catalog, caller)) ?? (masked ? await viewCallRefusal(key, grants, catalog, caller) : null);
    if (refused) {
      out.push({ table: key, access: [], note: refused, columns: r.columns });
      continue;
    }
    const names = r.columns.map((c) => c.name);
    const verdict: RelationVerdict | null = masked ? await relationVerdict(key, names, access.requiresOnly.includes('read'), masking, catalog, caller) : null;
    if (verdict?.refused) {
      out.push({ table: key, access: [], note: verdict.refused, columns: r.columns });
      continue;
    }
    // Columns: what write_columns allows and denies (describe-write-columns.ts).
    const cols = access.write ? columnWrites(key, names, granted.writeColumns.get(key) ?? null, granted.deniedColumns, access.requiresOnly.includes('write'), reach) : null;
    const write = access.write && cols?.writable?.length !== 0;
    const requiresOnly = access.requiresOnly.filter((k) => write || k !== 'write');
    const notes = [access.note, cols?.note, verdict?.star ? STAR_REFUSED : undefined].filter((n): n is string => !!n);
    out.push({
      table: key,
      access: ['read', ...(write ? ['write'] : [])],
      ...(requiresOnly.length ? { requires_only: requiresOnly } : {}),
      ...(write && cols?.writable ? { write_columns: cols.writable } : {}),
      ...(cols?.denied.length ? { write_denied: cols.denied } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
      columns: r.columns.map((c) => ({ ...c, ...verdict?.columns.get(c.name), ...(c.refused ? { refused: c.refused } : {}) })),
    });
  }
  return out;
}
