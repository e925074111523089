/**
 * The schema's own constants, which catalogs and functions quote: a column DEFAULT holding a
 * token, a CHECK constraint, partial-index predicate, trigger condition or partition bound naming
 * a value (`WHERE email <> 'ceo@corp'`), a function body or argument default with a hard-coded
 * key. No mask or deny rule follows them: they are not rows of the tables those rules name, so
 * statistics-values.ts refuses them under its rule (while masks or conditional deny rules apply).
 * Checked on PostgreSQL 15, view by view; catalogs that expose only names are not listed
 * (information_schema.domain_constraints: names, its CHECK clause is check_constraints';
 * view_routine_usage: names; pg_get_function_identity_arguments, pg_get_function_result: types).
 * pg_aggregate is listed whole: agginitval and aggminitval hold an aggregate's initial value,
 * a constant (`initcond = 'token'`), and the catalog is rarely needed (pg_proc names aggregates,
 * prokind = 'a', and is refused anyway). Not listed, though each holds a constant, because
 * every description of the schema reads them: pg_class (relpartbound: a partition's bound, as a
 * node tree), pg_attribute (attmissingval: the default of a column added later), pg_type
 * (typdefault, typdefaultbin: a domain's default); only statements reading those columns (by
 * name, through `*` or a whole row) are refused (catalog-columns.ts), and their readable forms
 * (pg_get_expr, pg_get_partition_constraintdef, information_schema.domains) are listed.
 * Stored settings and options are constants too, kept outside the tables rules name: listed
 * whole are pg_db_role_setting (`ALTER ROLE/DATABASE ... SET app.api_key = '...'`), pg_shadow and
 * pg_file_settings (superuser-only, but a grant may run as one), the user mappings (umoptions:
 * passwords) and information_schema's *_options views and the _pg_foreign_* views behind them;
 * pg_roles.rolconfig, pg_settings.setting, pg_class.reloptions, pg_foreign_server.srvoptions...
 * column by column (catalog-columns.ts); current_setting (unless each call names a built-in
 * setting by a constant: setting-reads.ts), pg_show_all_settings (behind pg_settings) and
 * pg_options_to_table (which prints an options array) as functions.
 * Sequences are not listed: a sequence's value (pg_sequences.last_value, `SELECT last_value
 * FROM s`, currval, lastval) is a counter, no copy of a column's value or of a constant, and
 * reading a sequence relation is granted and denied like any table; nextval and setval write,
 * so a read grant never allows them (analysis/functions.ts) and reads run in a read-only
 * transaction, where PostgreSQL refuses them.
 */

const DEFAULTS = 'shows column defaults, constants included (`DEFAULT \'token\'`)';
const CHECKS = 'holds the expressions of CHECK constraints, constants included (`CHECK (email <> ...)`)';
const BODIES = 'holds function bodies and argument defaults, constants included (a hard-coded key)';
const INDEXES = 'holds the expressions and predicates of indexes, constants included (`WHERE email <> ...`)';
const TRIGGERS = 'holds the conditions and arguments of triggers, constants included (`WHEN (NEW.email = ...)`)';

/** Relations whose columns quote the schema's constants (as statements name them: schema.name), and why each. */
export const SCHEMA_CONSTANTS: ReadonlyMap<string, string> = new Map([
  ['pg_catalog.pg_proc', BODIES],
  ['information_schema.routines', BODIES],
  ['information_schema.parameters', 'shows the defaults of function arguments, constants included'],
  ['pg_catalog.pg_attrdef', DEFAULTS],
  ['information_schema.columns', DEFAULTS],
  ['information_schema.attributes', 'shows the defaults of composite type attributes, constants included'],
  ['information_schema.domains', 'shows the defaults of domains, constants included'],
  ['pg_catalog.pg_constraint', CHECKS],
  ['information_schema.check_constraints', CHECKS],
  ['pg_catalog.pg_index', INDEXES],
  ['pg_catalog.pg_indexes', INDEXES],
  ['pg_catalog.pg_trigger', TRIGGERS],
  ['information_schema.triggers', TRIGGERS],
  ['pg_catalog.pg_partitioned_table', 'holds the expressions of partition keys, constants included'],
  ['pg_catalog.pg_statistic_ext', 'holds the expressions of extended statistics, constants included'],
  ['pg_catalog.pg_aggregate', "holds the initial values of aggregates, constants included (`initcond = 'token'`)"],
  ...['pg_catalog.pg_publication_rel', 'pg_catalog.pg_publication_tables'].map(
    (r) => [r, 'holds the row filters of publications, constants included (`WHERE email <> ...`)'] as const,
  ),
  // objname of a labelled function lists its arguments with their defaults (pg_get_function_arguments).
  ['pg_catalog.pg_seclabels', 'names functions with their argument defaults, constants included'],
  ['pg_catalog.pg_db_role_setting', "holds the settings given to roles and databases (`ALTER ROLE ... SET app.api_key = '...'`), secrets included"],
  ['pg_catalog.pg_shadow', 'holds the settings given to roles, secrets included, and password hashes'],
  ['pg_catalog.pg_file_settings', 'shows the settings of the server configuration files, secrets included'],
  ...['pg_catalog.pg_user_mapping', 'pg_catalog.pg_user_mappings', 'information_schema.user_mapping_options', 'information_schema._pg_user_mappings'].map(
    (r) => [r, 'holds the options of user mappings, passwords included'] as const,
  ),
  ...[
    'information_schema.foreign_server_options', 'information_schema.foreign_table_options', 'information_schema.column_options',
    'information_schema.foreign_data_wrapper_options', 'information_schema._pg_foreign_servers', 'information_schema._pg_foreign_tables',
    'information_schema._pg_foreign_table_columns', 'information_schema._pg_foreign_data_wrappers',
  ].map((r) => [r, 'shows the options of foreign servers, tables, columns or wrappers (hosts, file names, programs, sometimes credentials)'] as const),
]);

const PRINTS_EXPRESSION = 'prints stored expressions (defaults, CHECK constraints, index predicates, partition bounds), constants included';

/** Built-in functions (pg_catalog, keyed as functionKey spells them) that print the schema's constants, and why each. */
export const CONSTANT_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['pg_get_functiondef', 'prints function bodies, constants included (a hard-coded key)'],
  ['pg_get_function_sqlbody', 'prints function bodies, constants included (a hard-coded key)'],
  ['pg_get_function_arguments', 'prints function arguments with their defaults, constants included'],
  ['pg_get_function_arg_default', 'prints the defaults of function arguments, constants included'],
  ['pg_get_expr', PRINTS_EXPRESSION],
  ['pg_get_constraintdef', 'prints constraints, CHECK expressions and their constants included'],
  ['pg_get_indexdef', 'prints index definitions, expressions and predicates with their constants included'],
  ['pg_get_triggerdef', 'prints trigger definitions, conditions and arguments with their constants included'],
  ['pg_get_partkeydef', 'prints partition keys, expressions with their constants included'],
  ['pg_get_partition_constraintdef', 'prints partition bounds, constants included'],
  ...['pg_get_statisticsobjdef', 'pg_get_statisticsobjdef_columns', 'pg_get_statisticsobjdef_expressions'].map(
    (f) => [f, 'prints the expressions of extended statistics, constants included'] as const,
  ),
  ['pg_get_publication_tables', 'returns the row filters of publications, constants included'],
  ['current_setting', "returns the value of a setting, custom ones included (`app.api_key`, set for a role or database)"],
  ...['pg_show_all_settings', 'pg_show_all_file_settings'].map((f) => [f, 'returns the values of settings, custom ones included (`app.api_key`)'] as const),
  ['pg_options_to_table', 'prints stored options (of foreign servers, user mappings, relations), passwords included'],
]);
