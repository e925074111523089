/**
 * Function lists the `sql:` condition relies on. An allow-list (`@safe-read`) admins can
 * reference, and a never-under-read list: functions with side effects or reach outside the
 * query (files, processes, locks, settings, notifications, sequences, other servers) that no
 * read grant may call, whatever the admin listed.
 */
import { functionKey } from './names.js';

/** Built-in read-only functions with no side effects; `@safe-read` in a policy expands to these. */
export const SAFE_READ_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'stddev', 'stddev_pop',
  'stddev_samp', 'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode',
  // strings
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'trim', 'btrim',
  'ltrim', 'rtrim', 'substr', 'substring', 'left', 'right', 'replace', 'position', 'strpos',
  'initcap', 'lpad', 'rpad', 'split_part', 'starts_with', 'reverse', 'repeat', 'concat', 'concat_ws',
  // conditionals
  'coalesce', 'nullif', 'greatest', 'least',
  // math
  'abs', 'round', 'ceil', 'ceiling', 'floor', 'trunc', 'mod', 'power', 'sqrt', 'sign', 'ln', 'log',
  'exp', 'div', 'width_bucket',
  // date and time
  'now', 'date_trunc', 'date_part', 'extract', 'age', 'make_date', 'make_interval', 'make_timestamp',
  'to_char', 'to_date', 'to_timestamp', 'to_number', 'current_date', 'current_timestamp', 'localtimestamp',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead',
  'first_value', 'last_value', 'nth_value',
]);

/**
 * Built-in functions that run a query, or read a relation, named in their arguments (a string, a
 * regclass, a cursor): what they read is not in the statement's facts. Why a list of its own: a
 * view that calls one reads what deny rules cannot see (view-lineage.ts), and no read grant may
 * call one (NEVER_UNDER_READ). ts_stat and ts_rewrite run the SELECT text they are given.
 */
export const QUERY_TEXT_FUNCTIONS: ReadonlySet<string> = new Set([
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml',
  'cursor_to_xmlschema', 'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema', 'database_to_xml',
  'database_to_xmlschema', 'database_to_xml_and_xmlschema', 'xpath_table', 'ts_stat', 'ts_rewrite',
  // pageinspect (any schema): a raw page of the relation it names, rows and all
  'get_raw_page',
]);

/** Functions no read grant may call (server files, processes, locks, settings, ...). */
export const NEVER_UNDER_READ: ReadonlySet<string> = new Set([
  // server files and large objects
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_ls_logdir', 'pg_ls_waldir',
  'pg_ls_tmpdir', 'pg_ls_archive_statusdir', 'pg_ls_logicalmapdir', 'pg_ls_logicalsnapdir',
  'pg_ls_replslotdir', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_logdir_ls',
  'lo_import', 'lo_export', 'lo_create', 'lo_creat', 'lo_unlink', 'lo_open', 'lo_close', 'lo_get',
  'lo_put', 'lo_from_bytea', 'lo_truncate', 'lo_truncate64', 'lo_lseek', 'lo_lseek64', 'lo_tell',
  'lo_tell64', 'loread', 'lowrite',
  // processes, backends, server control
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile',
  'pg_promote', 'pg_switch_wal', 'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop',
  'pg_start_backup', 'pg_stop_backup', 'pg_log_backend_memory_contexts', 'pg_wal_replay_pause',
  'pg_wal_replay_resume', 'pg_create_physical_replication_slot', 'pg_create_logical_replication_slot',
  'pg_drop_replication_slot', 'pg_logical_slot_get_changes', 'pg_logical_slot_peek_changes',
  'pg_logical_slot_get_binary_changes', 'pg_logical_slot_peek_binary_changes', 'pg_logical_emit_message',
  'pg_stat_reset', 'pg_stat_reset_shared', 'pg_import_system_collations',
  'pg_replication_slot_advance', 'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot',
  'pg_sync_replication_slots', 'pg_log_standby_snapshot', 'pg_ls_summariesdir', 'pg_file_sync',
  // writes a read-only transaction lets through: index maintenance (as the index's owner) and
  // planner statistics (PostgreSQL 18); pg_stat_reset* and pg_replication_origin_* by prefix
  'brin_summarize_new_values', 'brin_summarize_range', 'brin_desummarize_range', 'gin_clean_pending_list',
  'pg_restore_relation_stats', 'pg_restore_attribute_stats', 'pg_clear_relation_stats', 'pg_clear_attribute_stats',
  // the session's random() sequence, which DISCARD ALL does not reset
  'setseed',
  // locks
  'pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_advisory_unlock', 'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all', 'pg_advisory_xact_lock', 'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock', 'pg_try_advisory_lock_shared', 'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  // settings
  'set_config', 'current_setting',
  // notifications
  'pg_notify',
  // transaction ids
  'txid_current', 'txid_current_if_assigned', 'txid_current_snapshot', 'pg_current_xact_id',
  'pg_current_xact_id_if_assigned', 'pg_export_snapshot',
  // sequences
  'nextval', 'setval', 'currval', 'lastval',
  // other servers
  'dblink', 'dblink_exec', 'dblink_connect', 'dblink_connect_u', 'dblink_send_query',
  'dblink_get_result', 'dblink_open', 'dblink_fetch', 'dblink_disconnect',
  // queries hidden in strings
  ...QUERY_TEXT_FUNCTIONS,
  // time
  'pg_sleep', 'pg_sleep_for', 'pg_sleep_until',
]);

/**
 * PostgreSQL's built-in set-returning functions (pg_proc.proretset in pg_catalog, PostgreSQL 13
 * to 18; those of 16 to 18 from their release notes, the suite's cluster being older): called
 * in a select list, ORDER BY, GROUP BY or DISTINCT ON they multiply the query's rows by what
 * they return, so a masked value in their arguments is a count computed from it (`SELECT
 * count(*) FROM (SELECT generate_series(1, ascii(email)) FROM users) x` is a code), as in FROM.
 * Functions outside pg_catalog are not listed: only the catalog knows which of those return
 * sets, so the executor asks it when one is fed a masked column (set-returning-calls.ts).
 */
export const SET_RETURNING_FUNCTIONS: ReadonlySet<string> = new Set([
  'aclexplode', 'generate_series', 'generate_subscripts', 'json_array_elements', 'json_array_elements_text',
  'json_each', 'json_each_text', 'json_object_keys', 'json_populate_recordset', 'json_to_recordset',
  'jsonb_array_elements', 'jsonb_array_elements_text', 'jsonb_each', 'jsonb_each_text', 'jsonb_object_keys',
  'jsonb_path_query', 'jsonb_path_query_tz', 'jsonb_populate_recordset', 'jsonb_to_recordset',
  'pg_available_extension_versions', 'pg_available_extensions', 'pg_config', 'pg_cursor',
  'pg_event_trigger_ddl_commands', 'pg_event_trigger_dropped_objects', 'pg_extension_update_paths',
  'pg_get_backend_memory_contexts', 'pg_get_catalog_foreign_keys', 'pg_get_keywords', 'pg_get_multixact_members',
  'pg_get_publication_tables', 'pg_get_replication_slots', 'pg_get_shmem_allocations', 'pg_get_wait_events',
  'pg_get_wal_resource_managers', 'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_listening_channels',
  'pg_lock_status', 'pg_logical_slot_get_binary_changes', 'pg_logical_slot_get_changes',
  'pg_logical_slot_peek_binary_changes', 'pg_logical_slot_peek_changes', 'pg_ls_archive_statusdir', 'pg_ls_dir',
  'pg_ls_logdir', 'pg_ls_logicalmapdir', 'pg_ls_logicalsnapdir', 'pg_ls_replslotdir', 'pg_ls_tmpdir',
  'pg_ls_waldir', 'pg_mcv_list_items', 'pg_options_to_table', 'pg_partition_ancestors', 'pg_partition_tree',
  'pg_prepared_statement', 'pg_prepared_xact', 'pg_show_all_file_settings', 'pg_show_all_settings',
  'pg_show_replication_origin_status', 'pg_snapshot_xip', 'pg_stat_get_activity', 'pg_stat_get_backend_idset',
  'pg_stat_get_progress_info', 'pg_stat_get_recovery_prefetch', 'pg_stat_get_slru', 'pg_stat_get_subscription',
  'pg_stat_get_wal_senders', 'pg_tablespace_databases', 'pg_timezone_abbrevs', 'pg_timezone_names',
  'regexp_matches', 'regexp_split_to_table', 'string_to_table', 'ts_debug', 'ts_parse', 'ts_stat',
  'ts_token_type', 'txid_snapshot_xip', 'unnest',
  // PostgreSQL 16 (pg_stat_io), 17 (WAL summaries), 18 (pg_aios, loaded modules, per-backend I/O, NUMA)
  'pg_stat_get_io', 'pg_available_wal_summaries', 'pg_wal_summary_contents', 'pg_get_loaded_modules', 'pg_get_aios',
  'pg_ls_summariesdir', 'pg_stat_get_backend_io', 'pg_get_shmem_allocations_numa',
]);

/**
 * Functions whose arguments size what the statement does with the value they are fed: the
 * set-returning ones (how many rows) and pg_sleep (how long: `WHERE pg_sleep(ascii(email) /
 * 100.0) IS NOT NULL` times out a character per call under a grant with no `sql:` block).
 */
const SLEEP_FUNCTIONS: ReadonlySet<string> = new Set(['pg_sleep', 'pg_sleep_for', 'pg_sleep_until']);

/**
 * Built-in functions one argument of which (0-based) sizes the work they do, a string's or an
 * array's length, a number's digits: `WHERE length(repeat('x', ascii(email) * 100000)) > 0`
 * takes as long as the code, timed by the agent though the filter itself keeps every row;
 * `factorial(ascii(email) * 300)` and `power(10::numeric, ascii(email) * 1000)` likewise.
 */
const SIZING_ARGUMENT: ReadonlyMap<string, number> = new Map([
  ['repeat', 1], ['lpad', 1], ['rpad', 1], ['array_fill', 1],
  ['factorial', 0], ['numeric_fac', 0], ['power', 1], ['pow', 1], ['numeric_power', 1],
]);

/**
 * Which arguments of this function size what the statement does (lineage.ts records a masked
 * value there at 'srf'): 'all' for the set-returning functions (a count) and pg_sleep (a
 * duration), the positions of the sizing argument of repeat, lpad, rpad, array_fill, factorial
 * and power (work the agent times), every argument of format() unless its format string is a
 * constant without `*` (formatWidths), none for the others. Functions outside pg_catalog: the
 * catalog's (set-returning-calls.ts). `args` is the call's argument node, `textOf` the text of a
 * string constant node (null for anything else).
 */
export function sizingArguments(name: string, args?: unknown, textOf?: (node: unknown) => string | null): 'all' | readonly number[] {
  const key = functionKey(name);
  if (key.includes('.')) return [];
  if (SET_RETURNING_FUNCTIONS.has(key) || SLEEP_FUNCTIONS.has(key)) return 'all';
  if (key === 'format') return formatWidths(args, textOf);
  const at = SIZING_ARGUMENT.get(key);
  return at === undefined ? [] : [at];
}

/**
 * format()'s sizing arguments: a width it reads from an argument (`%*s`, `%-*2$s`) or one written
 * in a format string computed at run time (`format('%' || ascii(email) * 1000 || 's', '')` pads
 * to the code) sizes the output, 97 MB in seconds. A string constant without `*` as the format
 * string (settings.ts constantText: '...', possibly cast to text) writes its widths as constants:
 * no argument sizes anything. Any other first argument (an expression, an E'' string with a
 * backslash, a named or odd argument list) makes every argument sizing (fail closed).
 */
function formatWidths(args: unknown, textOf?: (node: unknown) => string | null): 'all' | readonly number[] {
  const list = (args as { type?: unknown; value?: unknown } | null)?.type === 'expr_list' ? (args as { value: unknown }).value : null;
  if (!Array.isArray(list)) return 'all';
  const fmt = list[0] as { type?: unknown } | undefined;
  const text = fmt && textOf ? textOf(fmt) : null;
  return text !== null && !text.includes('*') ? [] : list.map((_, i) => i);
}

/**
 * Single-argument functions PostgreSQL will call in column form (`u.row_to_json` is
 * `row_to_json(u)`): the whole row flows out, so the analyser treats such references as calls.
 */
export const COLUMN_FORM_FUNCTIONS: ReadonlySet<string> = new Set([
  'row_to_json', 'to_json', 'to_jsonb', 'text', 'hstore', 'quote_literal', 'quote_nullable',
  'concat', 'format', 'json_build_array', 'jsonb_build_array', 'array_to_json', 'row_to_jsonb',
  'record_out', 'varchar', 'bpchar', 'xmlforest',
]);

/** Pseudo-functions the parser reports as calls but that are SQL syntax, not function calls. */
export const SYNTAX_PSEUDO_FUNCTIONS: ReadonlySet<string> = new Set(['exists', 'any', 'all', 'some', 'row', 'array']);

/** Whether a function (any spelling) is on the never-under-read list; dblink*, lo_*, pg_advisory*, pg_stat_reset* and the like by prefix. */
export function isNeverUnderRead(name: string): boolean {
  const key = functionKey(name);
  const bare = key.includes('.') ? key.slice(key.lastIndexOf('.') + 1) : key;
  return NEVER_UNDER_READ.has(bare) || bare.startsWith('dblink') || bare.startsWith('lo_') || bare.startsWith('pg_advisory') || bare.startsWith('pg_try_advisory') || bare.startsWith('pg_logical_slot_')
    || bare.startsWith('pg_stat_reset') || bare.startsWith('pg_replication_origin_');
}

/**
 * Whether a function (any spelling) runs query text or reads relations its arguments name: the
 * QUERY_TEXT_FUNCTIONS, and dblink* (another connection, possibly to this very database).
 */
export function runsQueryText(name: string): boolean {
  const key = functionKey(name);
  const bare = key.includes('.') ? key.slice(key.lastIndexOf('.') + 1) : key;
  return QUERY_TEXT_FUNCTIONS.has(bare) || bare.startsWith('dblink');
}
