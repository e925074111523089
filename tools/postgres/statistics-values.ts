/**
 * Planner statistics, definitions and EXPLAIN plans quote what no mask or deny rule can follow.
 * - pg_stats (most_common_vals, histogram_bounds...), pg_stats_ext and pg_stats_ext_exprs (the
 *   most common values of extended statistics) and the tables behind them, pg_statistic and
 *   pg_statistic_ext_data, hold copies of column values of every table ANALYZE has seen. A row
 *   says which table it is about only in a column the statement may ignore (`WHERE
 *   most_common_vals::text LIKE ...` reads values without returning any), so Warden cannot tell
 *   before the statement runs whose values it reads.
 * - EXPLAIN prints the definition of every view its statement reads, constants included (`WHERE
 *   ssn = '...'`), in a text column no lineage points to; so do pg_views, pg_matviews, pg_rules,
 *   pg_rewrite and information_schema.views, and pg_policies / pg_policy quote the conditions of
 *   row security policies. pg_stat_activity shows the statements other sessions run, with the
 *   literal values they write (`INSERT INTO users (ssn) VALUES ('...')` by the application);
 *   pg_prepared_statements, pg_cursors and pg_backend_memory_contexts (ident) those prepared on
 *   the connection, which the pool shares across callers. pg_stat_statements and pg_stat_monitor
 *   (extensions' views and functions, in whatever schema installed: EXTENSION_RELATIONS, matched
 *   by bare name) keep utility statements as written (`ALTER ROLE ... PASSWORD '...'`) and some
 *   constants of normalised ones (pg_stat_monitor, configured so, every literal).
 * - The schema's own constants (schema-constants.ts): column defaults, CHECK constraints,
 *   index and trigger conditions, partition bounds, function bodies, aggregates' initial values
 *   (`DEFAULT 'token'`, `WHERE email <> 'ceo@corp'`), in pg_proc, pg_attrdef, pg_constraint,
 *   pg_index, pg_aggregate, information_schema.columns, .routines, .check_constraints... and the
 *   pg_get_*def functions that print them; and, column by column, in catalogs every description
 *   of the schema reads (catalog-columns.ts: pg_attribute.attmissingval, pg_type.typdefault,
 *   pg_class.relpartbound), refused only when the statement, or a view it reaches, reads one
 *   (by name, through `*` or a whole row: facts' readColumns).
 * - Functions do the same (QUOTING_FUNCTIONS, CONSTANT_FUNCTIONS): pg_get_viewdef and
 *   pg_get_ruledef print definitions, pg_stat_get_activity and pg_stat_get_backend_activity
 *   (what pg_stat_activity reads) other sessions' statements; and a function that runs query
 *   text or reads a relation its arguments name (query_to_xml, table_to_xml, ts_stat,
 *   dblink...: runsQueryText) reads what no deny rule or mask sees. A grant without a sql block
 *   allows every function. current_setting reads when each call names a built-in setting by a
 *   constant (setting-reads.ts).
 * - Functions that keep a value where another statement, or another part of this one, reads it
 *   back (value-stores.ts: advisory locks, whose keys pg_locks shows; large objects, which a
 *   read keeps; setval, pg_notify, pg_logical_emit_message), pg_largeobject, and TOAST tables
 *   (pg_toast.*: other tables' long values, in chunks).
 * - EXPLAIN of a statement calling a function outside pg_catalog prints what the planner inlines
 *   of its body (a SQL function's query, with the view definitions it reads), which Warden does
 *   not read; EXPLAIN of one reading a table with row level security enabled prints the
 *   policies' conditions; EXPLAIN (VERBOSE) of an INSERT, UPDATE or MERGE the defaults and
 *   generation expressions of the columns it fills.
 * The rule: while a column mask or a conditional deny rule applies to the call, a statement that
 * reaches one of those relations (VALUE_STATISTICS, QUOTED_VALUES, SCHEMA_CONSTANTS,
 * STORE_RELATIONS, EXTENSION_RELATIONS), reads one of those columns (CONSTANT_COLUMNS) or calls one of those
 * functions, named or through views (system views are not opened: they read only system
 * catalogs), is refused, and so is EXPLAIN of a statement that reaches a view or a table with row
 * level security, calls a function outside pg_catalog, or writes. Without masks or deny rules
 * nothing here applies: a grant that lists pg_stats reads what the database role may read, as
 * any other grant. describe_database says the same (describe-tables.ts).
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { runsQueryText } from './analysis/functions.js';
import { functionKey } from './analysis/names.js';
import type { SqlFacts } from './analysis/types.js';
import { constantColumnRead } from './catalog-columns.js';
import { statementRelations } from './inheritance.js';
import { CONSTANT_FUNCTIONS, SCHEMA_CONSTANTS } from './schema-constants.js';
import { isCurrentSetting, settingReadProblem } from './setting-reads.js';
import { storeRelation, storingCall } from './value-stores.js';
import type { ViewCatalog } from './view-catalog.js';
import type { Caller } from './pool-shares.js';
import { isSystemRelation, MAX_VIEW_DEPTH } from './view-lineage.js';

/** Relations whose rows hold copies of column values (PostgreSQL's planner statistics). */
export const VALUE_STATISTICS: ReadonlySet<string> = new Set([
  'pg_catalog.pg_stats',
  'pg_catalog.pg_stats_ext',
  'pg_catalog.pg_stats_ext_exprs',
  'pg_catalog.pg_statistic',
  'pg_catalog.pg_statistic_ext_data',
]);

/**
 * Relations whose text columns quote values: definitions with their constants, other sessions'
 * statements with their literals. Refused under the same rule as VALUE_STATISTICS; why each.
 * The schema's constants (defaults, CHECK, function bodies): SCHEMA_CONSTANTS.
 */
export const QUOTED_VALUES: ReadonlyMap<string, string> = new Map([
  ...['pg_catalog.pg_views', 'pg_catalog.pg_matviews', 'pg_catalog.pg_rules', 'pg_catalog.pg_rewrite', 'information_schema.views'].map(
    (r) => [r, 'holds the definitions of views and rules, constants included (`WHERE ssn = ...`)'] as const,
  ),
  ...['pg_catalog.pg_policies', 'pg_catalog.pg_policy'].map((r) => [r, 'holds the conditions of row security policies, constants included'] as const),
  ['pg_catalog.pg_stat_activity', 'shows the statements other sessions run, with the literal values they write'] as const,
  ...['pg_catalog.pg_prepared_statements', 'pg_catalog.pg_cursors'].map(
    (r) => [r, 'shows the statements prepared on the connection, which the pool shares across callers, with the literal values they hold'] as const,
  ),
  ['pg_catalog.pg_backend_memory_contexts', 'shows the query text of plans cached on the connection (ident), which the pool shares across callers, with its literal values'] as const,
]);

const STATEMENT_TEXT = 'the statements sessions ran: utility statements as written, literals included (`ALTER ROLE ... PASSWORD ...`, `COPY ...`), others with the constants normalisation keeps';

/**
 * Relations of extensions whose rows quote values, by bare name: they live in whatever schema
 * the extension was installed in (often public), so any schema's relation of that name counts.
 * Refused under the same rule as QUOTED_VALUES; why each. Their functions: EXTENSION_FUNCTIONS.
 */
export const EXTENSION_RELATIONS: ReadonlyMap<string, string> = new Map(['pg_stat_statements', 'pg_stat_monitor'].map((r) => [r, `shows ${STATEMENT_TEXT}`]));

/** Functions of extensions whose results quote values, by bare name (any schema), and why each (pg_stat_monitor's view reads pg_stat_monitor_internal). */
export const EXTENSION_FUNCTIONS: ReadonlyMap<string, string> = new Map(['pg_stat_statements', 'pg_stat_monitor_internal'].map((f) => [f, `returns ${STATEMENT_TEXT}`]));

/** The name after the schema (facts spell relations schema.name; a '.' inside a part is refused). */
const bareName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

/** Why the rows of `relation` quote values, or undefined: QUOTED_VALUES, SCHEMA_CONSTANTS, EXTENSION_RELATIONS (statistics say it themselves). */
function quotedBy(relation: string): string | undefined {
  return QUOTED_VALUES.get(relation) ?? SCHEMA_CONSTANTS.get(relation) ?? storeRelation(relation) ?? EXTENSION_RELATIONS.get(bareName(relation));
}

/** Is this relation one whose rows quote values (statistics, definitions, the schema's constants, statements sessions ran)? */
export function quotesValues(relation: string): boolean {
  return VALUE_STATISTICS.has(relation) || quotedBy(relation) !== undefined;
}

/**
 * Built-in functions (pg_catalog) whose results quote values, keyed as functionKey spells them:
 * the functions behind the QUOTED_VALUES views. Why each. Those that print the schema's own
 * constants (pg_get_functiondef, pg_get_expr...): CONSTANT_FUNCTIONS.
 */
export const QUOTING_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['pg_get_viewdef', 'prints the definitions of views, constants included (`WHERE ssn = ...`)'],
  ['pg_get_ruledef', 'prints the definitions of rules and views, constants included (`WHERE ssn = ...`)'],
  ['pg_stat_get_activity', 'returns the statements other sessions run, with the literal values they write'],
  ['pg_stat_get_backend_activity', 'returns the statement another session runs, with the literal values it writes'],
  ...['pg_prepared_statement', 'pg_cursor'].map((f) => [f, 'returns the statements prepared on the connection, which the pool shares across callers, with their literal values'] as const),
  ['pg_get_backend_memory_contexts', 'returns the query text of plans cached on the connection, which the pool shares across callers, with its literal values'],
]);

/** Why a call (as facts spell it) returns values masks and deny rules cannot follow, or null. */
function quotingCall(fn: string): string | null {
  // Any schema: dblink lives where its extension was installed.
  if (runsQueryText(fn)) return 'runs the query text, or reads the relation, its arguments name';
  const key = functionKey(fn);
  const extension = EXTENSION_FUNCTIONS.get(bareName(key));
  if (extension) return extension;
  // A function outside pg_catalog is the grant's to trust (facts spell it schema.name).
  return key.includes('.') ? null : (QUOTING_FUNCTIONS.get(key) ?? CONSTANT_FUNCTIONS.get(key) ?? storingCall(key));
}

/** Statement kinds whose plans print the defaults of the columns they fill (EXPLAIN VERBOSE). */
const FILLING_WRITES: ReadonlySet<string> = new Set(['insert', 'update', 'merge']);

/** What applies to the call: column masks, conditional deny rules. Nothing here applies without either. */
export interface ValueGuards {
  masks: boolean;
  denies: boolean;
}

function guardWords(g: ValueGuards): string {
  return g.masks && g.denies ? 'column masks and deny rules' : g.masks ? 'column masks' : 'deny rules';
}

function refusal(message: string, g: ValueGuards): WardenError {
  return new WardenError(ErrorCode.DENIED, message, { ruleIds: g.masks ? ['masking.columns'] : [], reason: 'values outside masks and deny rules' });
}

/** A view at which the walk stopped: what lies below it is unknown (fail closed). */
function tooDeepMessage(view: string): string {
  return `views are nested deeper than ${MAX_VIEW_DEPTH} at ${view}, so Warden cannot tell whether the statement reaches planner statistics; refused`;
}

/** Why a call returns values masks and deny rules cannot follow, in words, or null. */
function callRefusal(fn: string, g: ValueGuards, via: string): string | null {
  const why = quotingCall(fn);
  return why ? `${fn} ${why}${via}, which ${guardWords(g)} cannot follow; refused while ${guardWords(g)} apply to you` : null;
}

/**
 * Why query_database refuses every statement that reads `relation` (as named by a statement, or
 * listed by describe_database), or null: it is, or reaches through views, a relation of
 * VALUE_STATISTICS or QUOTED_VALUES, or calls through views a function quotingCall names,
 * while masks or deny rules apply.
 */
export async function statisticsRefusal(relation: string, g: ValueGuards, catalog: ViewCatalog, caller?: Caller): Promise<string | null> {
  if (!g.masks && !g.denies) return null;
  let stat = quotesValues(relation) ? relation : undefined;
  if (!stat) {
    const reached = await catalog.reached([relation], caller);
    if (reached.tooDeep) return tooDeepMessage(reached.tooDeep);
    stat = [...reached.relations].find(quotesValues);
    if (!stat) {
      const call = [...reached.functions].find((f) => quotingCall(f) !== null);
      if (call) return callRefusal(call, g, ` (called through ${relation})`);
      const column = constantColumnRead(reached.columns);
      return column ? `${column} (read by a view reached through ${relation}), which ${guardWords(g)} cannot follow; refused while ${guardWords(g)} apply to you` : null;
    }
  }
  const via = stat === relation ? '' : ` (reached through ${relation})`;
  const quoted = quotedBy(stat);
  if (quoted) return `${stat} ${quoted}${via}, which ${guardWords(g)} cannot follow; refused while ${guardWords(g)} apply to you`;
  return (
    `${stat} holds planner statistics${via}: copies of column values (most common values, histogram bounds) of every table ` +
    `ANALYZE has seen, which ${guardWords(g)} cannot follow; refused while ${guardWords(g)} apply to you ` +
    `(pg_class.reltuples gives row counts; ask an admin for the statistics you need)`
  );
}

/**
 * Refuse (WARDEN_DENIED) a statement that reaches planner statistics, a quoting relation or a
 * quoting function, or an EXPLAIN of one that reaches a view or a table with row level security,
 * calls a function outside pg_catalog, or fills columns (INSERT, UPDATE, MERGE), while masks or
 * deny rules apply (see the top of the file). No catalog lookup when neither applies or the
 * statement names no relation; the walk is the one masking and deny rules take
 * (view-catalog.ts), so it costs no round trip once warm.
 */
export async function checkStatisticsValues(facts: SqlFacts, g: ValueGuards, catalog: ViewCatalog, caller?: Caller): Promise<void> {
  if (!g.masks && !g.denies) return;
  for (const fn of facts.functions) {
    // current_setting of built-in settings, each named by a constant, reads (setting-reads.ts).
    const setting = isCurrentSetting(fn) ? settingReadProblem(facts) : '';
    if (setting === null) continue;
    const why = callRefusal(fn, g, setting);
    if (why) throw refusal(why, g);
  }
  if (facts.statements.includes('explain')) {
    const opaque = facts.functions.find((fn) => functionKey(fn).includes('.'));
    if (opaque) {
      throw refusal(
        `EXPLAIN prints what the planner inlines of the functions its statement calls (a SQL function's query, with the definitions of the views it reads, constants included), ` +
          `and the statement calls ${opaque}, whose body Warden does not read; refused while ${guardWords(g)} apply to you (run it without EXPLAIN)`,
        g,
      );
    }
    const write = facts.statements.find((k) => FILLING_WRITES.has(k));
    if (write) {
      throw refusal(
        `EXPLAIN (VERBOSE) of ${write.toUpperCase()} prints the defaults and generation expressions of the columns it fills, constants included (\`DEFAULT 'token'\`); ` +
          `refused while ${guardWords(g)} apply to you (run it without EXPLAIN)`,
        g,
      );
    }
  }
  const named = statementRelations(facts);
  const direct = named.find(quotesValues);
  if (direct) throw refusal((await statisticsRefusal(direct, g, catalog, caller))!, g);
  const column = constantColumnRead(facts.readColumns);
  if (column) throw refusal(`${column}, which ${guardWords(g)} cannot follow; refused while ${guardWords(g)} apply to you (its catalog's other columns read as usual)`, g);
  if (named.length === 0) return;
  const all = await catalog.reached(named, caller); // one walk for all; each relation below is answered from the cache
  if (all.tooDeep) throw refusal(tooDeepMessage(all.tooDeep), g);
  // Which named relation leads there is asked only when one does (the common read: never).
  if ([...all.relations].some(quotesValues) || [...all.functions].some((f) => quotingCall(f) !== null) || constantColumnRead(all.columns)) {
    for (const r of named) {
      const why = await statisticsRefusal(r, g, catalog, caller);
      if (why) throw refusal(why, g);
    }
  }
  if (!facts.statements.includes('explain')) return;
  const view = all.views.find((v) => !isSystemRelation(v));
  if (view) {
    throw refusal(
      `EXPLAIN prints the definition of every view its statement reads, constants included, and the statement reads view ${view}; ` +
        `refused while ${guardWords(g)} apply to you (EXPLAIN the statement over the base tables, or run it without EXPLAIN)`,
      g,
    );
  }
  const secured = all.rowSecurity.find((r) => !isSystemRelation(r));
  if (secured) {
    throw refusal(
      `EXPLAIN prints the conditions of the row security policies of the tables its statement reads, constants included, and the statement reads ${secured}, whose row level security is enabled; ` +
        `refused while ${guardWords(g)} apply to you (run it without EXPLAIN)`,
      g,
    );
  }
}
