/**
 * The `sql:` policy block. An allow block grants a closed set (statement kinds, tables, functions,
 * constructs): facts match only when they lie entirely inside it. A deny block matches when the
 * facts touch anything it names. Both compile once at policy load.
 */
import { z } from 'zod';
import type { CompiledCondition, ConditionResult, ConditionSpec, Facts } from '../../src/tool-api.js';
import { SAFE_READ_FUNCTIONS, isNeverUnderRead } from './analysis/functions.js';
import { deniedFunctionKeys, functionKey, normalizePolicyTable, policyTableProblem } from './analysis/names.js';
import { READ_KINDS, STATEMENT_KINDS, type StatementKind } from './analysis/kinds.js';
import type { SqlFacts } from './analysis/types.js';
import { CONSTANT_COLUMNS } from './catalog-columns.js';
import { SCHEMA_CONSTANTS } from './schema-constants.js';
import { quotesValues, VALUE_STATISTICS } from './statistics-values.js';
import { isCurrentSetting, settingReadProblem } from './setting-reads.js';
import { type ColumnGrant, columnName, columnsOutsideGrant, compileColumns, deniedColumnWrite, describeColumns } from './sql-write-columns.js';

/** Reference to the built-in safe-read function set inside `functions:`. */
export const SAFE_READ_REF = '@safe-read';

/**
 * One entry of `statements:`: trimmed and lower-cased (SQL keywords are case-insensitive), then
 * one of the kinds the analyser reports. A closed set, so a typo (`dorp`) fails the load at its
 * line instead of leaving a deny rule that never matches.
 */
const statementKind = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.enum(STATEMENT_KINDS, {
    error: (iss) =>
      typeof iss.input === 'string'
        ? `unknown statement kind "${iss.input}" (known: ${STATEMENT_KINDS.join(', ')})`
        : `expected a statement kind (one of: ${STATEMENT_KINDS.join(', ')})`,
  }),
);

/**
 * One entry of `read:` / `write:`: a [schema.]table name by SQL identifier rules (unquoted parts
 * fold to lower case, "Quoted" parts keep their case; analysis/names.ts). An ill-formed name
 * fails the load at its line instead of leaving a rule that names no table.
 */
const tableName = z.string().min(1).superRefine((name, ctx) => {
  const problem = name ? policyTableProblem(name) : null; // an empty name is reported by min(1)
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Schema of a `sql:` block (strict: unknown keys, unknown statement kinds and ill-formed table names are errors). */
export const sqlBlockSchema = z
  .object({
    statements: z.array(statementKind).optional(),
    read: z.array(tableName).optional(),
    write: z.array(tableName).optional(),
    /** [schema.]table.column names (sql-write-columns.ts). */
    write_columns: z.array(columnName).optional(),
    functions: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** A `sql:` block as written by an admin. */
export type SqlBlock = z.infer<typeof sqlBlockSchema>;

const DML_KINDS: StatementKind[] = ['insert', 'update', 'delete'];
const DDL_KINDS: StatementKind[] = ['create', 'drop', 'alter', 'truncate', 'grant', 'revoke', 'comment'];
const TX_KINDS: StatementKind[] = ['begin', 'commit', 'rollback', 'savepoint', 'release'];

/** Which statement kinds a construct needs in the grant before an allow rule accepts it. */
const CONSTRUCT_NEEDS: Record<string, StatementKind[]> = {
  column_form_call: [], // the function itself is checked against `functions`
  for_update: ['update', 'lock'],
  for_share: ['update', 'lock'],
  lock: ['lock'],
  select_into: ['create'],
  data_modifying_cte: DML_KINDS,
  explain_analyze: ['explain'],
  set: ['set', 'discard'], // RESET is reported as set
  transaction: TX_KINDS,
  notification: ['listen', 'unlisten', 'notify'],
  ddl: DDL_KINDS,
  // CREATE forms whose facts name everything they create and read (analysis/ddl.ts). Other
  // create_* constructs (schema, extension, function, sequence...) no allow rule grants.
  create_table: ['create'],
  create_index: ['create'],
  create_view: ['create'],
  // ALTER TABLE that checks existing rows' foreign keys (analysis/kinds.ts CHECKS_KEYS): deny rules follow its reads.
  checks_keys: ['alter'],
  execute: ['execute'],
  checkpoint: ['checkpoint'],
  deallocate: ['deallocate'],
};

interface Compiled {
  statements: Set<string> | null;
  read: Set<string> | null;
  write: Set<string> | null;
  /** `write_columns:` by table (sql-write-columns.ts). */
  writeColumns: ColumnGrant | null;
  /** Exact names (allow); for deny, normalised keys. */
  functions: Set<string> | null;
}

function compileBlock(block: SqlBlock, effect: 'allow' | 'deny'): Compiled {
  const lower = (xs: string[] | undefined): Set<string> | null => (xs ? new Set(xs.map((x) => x.trim().toLowerCase())) : null);
  const tables = (xs: string[] | undefined): Set<string> | null => (xs ? new Set(xs.map(normalizePolicyTable)) : null);
  let functions: Set<string> | null = null;
  if (block.functions) {
    functions = new Set();
    for (const f of block.functions) {
      if (f.trim() === SAFE_READ_REF) for (const s of SAFE_READ_FUNCTIONS) functions.add(s);
      // An allow grants the spelling it names; a deny reaches every spelling of the function (deniedFunctionKeys).
      else if (effect === 'deny') for (const k of deniedFunctionKeys(f)) functions.add(k);
      else functions.add(functionKey(f));
    }
  }
  return {
    statements: lower(block.statements),
    read: tables(block.read),
    write: tables(block.write),
    writeColumns: compileColumns(block.write_columns),
    functions,
  };
}

function isSqlFacts(f: Facts): f is SqlFacts {
  return f.family === 'sql' && Array.isArray((f as SqlFacts).statements);
}

const no = (why: string): ConditionResult => ({ matched: false, why });
const yes = (why: string): ConditionResult => ({ matched: true, why });

function allowMatch(c: Compiled, f: SqlFacts): ConditionResult {
  const statements = c.statements ?? new Set(['select']);
  const functions = c.functions ?? SAFE_READ_FUNCTIONS;
  // write_columns makes its tables writable; with write: too, a table must be in both.
  const columnTables = [...(c.writeColumns?.keys() ?? [])];
  const write = c.write && c.writeColumns ? new Set(columnTables.filter((t) => c.write!.has(t))) : (c.write ?? new Set(columnTables));
  const read = new Set([...(c.read ?? []), ...(c.write ?? []), ...columnTables]);
  for (const k of f.statements) if (!statements.has(k)) return no(`statement ${k} is not in the allowed statements (${[...statements].join(', ')})`);
  for (const t of f.writes) if (!write.has(t)) return no(`table ${t} may not be written`);
  const outside = c.writeColumns ? columnsOutsideGrant(c.writeColumns, f) : null;
  if (outside) return no(outside);
  for (const t of f.reads) if (!read.has(t)) return no(`table ${t} is not in the allowed tables`);
  const readGrant = [...statements].every((k) => READ_KINDS.has(k)) || f.statements.every((k) => READ_KINDS.has(k));
  for (const fn of f.functions) {
    // current_setting of built-in settings, each named by a constant, holds no stored value
    // (setting-reads.ts); a custom or unknown name stays never allowed under a read grant.
    const builtInSettings = isCurrentSetting(fn) && settingReadProblem(f) === null;
    if (readGrant && isNeverUnderRead(fn) && !builtInSettings) return no(`function ${fn} is never allowed under a read grant`);
    if (!functions.has(fn)) {
      // An allow matches the spelling it names (deny entries reach both): say why `f` did not grant `public.f`.
      const bare = fn.startsWith('public.') ? fn.slice('public.'.length) : null;
      const hint = bare && functions.has(bare) ? ` (the rule names ${bare} without a schema, which grants only a built-in of that name; write public.${bare} to grant the function in public)` : '';
      return no(`function ${fn} is not in the allowed functions${hint}`);
    }
  }
  for (const construct of f.constructs) {
    const needs = CONSTRUCT_NEEDS[construct];
    if (!needs) return no(`construct ${construct} is not allowed by this rule`);
    if (needs.length > 0 && !needs.some((k) => statements.has(k))) return no(`construct ${construct} is not allowed by this rule`);
  }
  return yes(`${f.statements.join('+')} on ${[...f.reads, ...f.writes].join(', ') || 'no tables'} lies within the grant`);
}

function denyMatch(c: Compiled, f: SqlFacts): ConditionResult {
  if (!c.statements && !c.read && !c.write && !c.writeColumns && !c.functions) return yes('the rule matches every SQL statement');
  for (const k of f.statements) if (c.statements?.has(k)) return yes(`statement ${k} is denied`);
  for (const t of [...f.reads, ...f.writes]) if (c.read?.has(t)) return yes(`table ${t} is denied`);
  for (const t of f.writes) if (c.write?.has(t)) return yes(`writing table ${t} is denied`);
  const column = c.writeColumns ? deniedColumnWrite(c.writeColumns, f) : null;
  if (column) return yes(column);
  for (const fn of f.functions) if (c.functions?.has(functionKey(fn))) return yes(`function ${fn} is denied`);
  return no('the statement touches nothing this rule denies');
}

/** The `sql:` condition spec registered by the postgres family. */
export const sqlCondition: ConditionSpec = {
  key: 'sql',
  families: ['sql'],
  schema: sqlBlockSchema,
  compile(block, rule): CompiledCondition {
    const parsed = sqlBlockSchema.parse(block ?? {});
    // A deny list that names nothing matches nothing: the rule would load and deny nothing.
    if (rule.effect === 'deny') {
      const empty = (['statements', 'read', 'write', 'write_columns', 'functions'] as const).filter((k) => parsed[k]?.length === 0);
      if (empty.length) throw new Error(`a deny's ${empty.join(', ')} ${empty.length === 1 ? 'list is' : 'lists are'} empty, so it would deny nothing: name what to deny, or leave the key out`);
    }
    const compiled = compileBlock(parsed, rule.effect);
    return (facts) => {
      if (!isSqlFacts(facts)) return no('the call is not SQL');
      return rule.effect === 'allow' ? allowMatch(compiled, facts) : denyMatch(compiled, facts);
    };
  },
  describe(block): string {
    const b = sqlBlockSchema.parse(block ?? {});
    const statements = (b.statements ?? ['select']).map((s) => s.toLowerCase()).join(', ');
    const parts = [`SQL ${statements}`];
    if (b.read?.length) parts.push(`reading ${b.read.map(normalizePolicyTable).join(', ')}`);
    if (b.write?.length) parts.push(`writing ${b.write.map(normalizePolicyTable).join(', ')}`);
    if (b.write_columns?.length) parts.push(`writing columns ${describeColumns(b.write_columns)}`);
    parts.push(`functions: ${b.functions?.length ? b.functions.join(', ') : SAFE_READ_REF}`);
    return parts.join('; ');
  },
  lint(raw) {
    // Catalogs that quote column values (planner statistics, definitions, the schema's constants,
    // other sessions' statements) are refused at run time while masks or deny rules apply (statistics-values.ts),
    // and without them show values of every table the database role may read: say so. Of pg_attribute,
    // pg_type and pg_class only the columns holding a constant are refused (catalog-columns.ts).
    const p = sqlBlockSchema.safeParse(raw ?? {});
    if (!p.success) return [];
    return (['read', 'write'] as const).flatMap((list) =>
      (p.data[list] ?? []).flatMap((entry, i) => {
        const relation = normalizePolicyTable(entry);
        const columns = [...(CONSTANT_COLUMNS.get(relation) ?? [])];
        if (columns.length) {
          const [[name, why], ...others] = columns as [[string, string], ...[string, string][]];
          const also = others.length ? `; so does ${others.map(([c]) => c).join(', ')}` : '';
          return [{
            key: [list, i],
            message: `${relation}.${name} quotes constants of the schema (it ${why}${also}): query_database refuses statements that read it (by name or through *) while any column mask or deny rule applies to the caller, and without them this grant shows it unmasked; its other columns read as usual`,
          }];
        }
        if (!quotesValues(relation)) return [];
        const constants = SCHEMA_CONSTANTS.get(relation);
        const what = constants
          ? `quotes constants of the schema (it ${constants})`
          : `quotes column values of every table the database role may read (${VALUE_STATISTICS.has(relation) ? 'planner statistics' : 'definitions or statements with their constants'})`;
        return [{
          key: [list, i],
          message: `${relation} ${what}: query_database refuses it while any column mask or deny rule applies to the caller, and without them this grant shows those values unmasked`,
        }];
      }),
    );
  },
};
