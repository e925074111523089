/**
 * Columns of catalogs every description of the schema reads that hold a constant of the schema:
 * pg_attribute.attmissingval (the default of a column added later with ALTER TABLE ... ADD
 * COLUMN ... DEFAULT, stored for the rows written before; readable by any role, unlike
 * pg_statistic), pg_type.typdefault and typdefaultbin (a domain's default, as text and as a node
 * tree), pg_class.relpartbound (a partition's bound, a node tree). Refusing these catalogs whole,
 * as schema-constants.ts does for pg_proc or pg_attrdef, would refuse the statements that look
 * up names and types (`SELECT attname FROM pg_attribute WHERE attrelid = ...`); so, while masks
 * or conditional deny rules apply, statistics-values.ts refuses only a statement that reads one
 * of these columns: by name anywhere (select list, WHERE, ORDER BY, a cast, a subquery, JOIN
 * USING), through `*` or `t.*`, as a whole row (`t`, `row_to_json(t)`), under a table renamed
 * with AS t(a, b) or a NATURAL JOIN (facts' readColumns); and one reading a view whose
 * definition reads one anywhere (the view whole: which of its columns carry it is not asked).
 * An unqualified name counts for every table in scope (analysis has no catalog), so a column
 * of another table named `typdefault`, read next to pg_type, is refused too (qualify it).
 * System views are not opened: on PostgreSQL 15 only information_schema.domains reads one of
 * these columns, and schema-constants.ts refuses it whole. Their readable forms (pg_get_expr,
 * pg_get_partition_constraintdef) are CONSTANT_FUNCTIONS.
 * Stored settings and options follow the same rule, column by column where the catalog is read
 * for names too: a per-role setting (`ALTER ROLE agent SET app.api_key = '...'`: pg_roles.rolconfig,
 * pg_user.useconfig; pg_db_role_setting itself, and pg_shadow, are refused whole in
 * schema-constants.ts), the values of settings (pg_settings.setting, reset_val, boot_val: a custom
 * setting holds what the role or database was given; `SHOW app.api_key` and `SHOW ALL` count as
 * reading pg_settings.setting, analysis/statement.ts), and the options of foreign servers, tables,
 * columns and wrappers (srvoptions, ftoptions, attfdwoptions, fdwoptions: hosts, file names,
 * programs, sometimes credentials), relations and columns (reloptions, attoptions: built-in ones
 * are numbers or enums, but an extension may define string ones). User mappings (passwords) are
 * refused whole.
 */
import type { SourceColumn } from './analysis/types.js';

const DOMAIN_DEFAULT = "holds a domain's default, constants included (`DEFAULT 'token'`)";
const ROLE_SETTINGS = "holds the settings given to a role (`ALTER ROLE ... SET app.api_key = '...'`), secrets included";
const SETTING_VALUE = "holds the values of settings, custom ones included (`app.api_key`, set for a role or database)";
const STORAGE_OPTIONS = 'holds storage options, which an extension may define as strings';
const FDW_OPTIONS = (of: string): string => `holds the options of ${of} (hosts, file names, programs, sometimes credentials)`;

/** Catalogs (as statements name them: schema.name) and their columns that hold a constant of the schema, and why each. */
export const CONSTANT_COLUMNS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['pg_catalog.pg_attribute', new Map([
    ['attmissingval', "holds the default of a column added later (ALTER TABLE ... ADD COLUMN ... DEFAULT 'token'), constants included"],
    ['attfdwoptions', FDW_OPTIONS('foreign table columns')],
    ['attoptions', STORAGE_OPTIONS],
  ])],
  ['pg_catalog.pg_type', new Map([['typdefault', DOMAIN_DEFAULT], ['typdefaultbin', DOMAIN_DEFAULT]])],
  ['pg_catalog.pg_class', new Map([['relpartbound', "holds a partition's bound, constants included (`FOR VALUES IN ('ceo@corp')`)"], ['reloptions', STORAGE_OPTIONS]])],
  ['pg_catalog.pg_roles', new Map([['rolconfig', ROLE_SETTINGS]])],
  ['pg_catalog.pg_user', new Map([['useconfig', ROLE_SETTINGS]])],
  ['pg_catalog.pg_settings', new Map([['setting', SETTING_VALUE], ['reset_val', SETTING_VALUE], ['boot_val', SETTING_VALUE]])],
  ['pg_catalog.pg_foreign_server', new Map([['srvoptions', FDW_OPTIONS('foreign servers')]])],
  ['pg_catalog.pg_foreign_table', new Map([['ftoptions', FDW_OPTIONS('foreign tables')]])],
  ['pg_catalog.pg_foreign_data_wrapper', new Map([['fdwoptions', FDW_OPTIONS('foreign-data wrappers')]])],
]);

/**
 * Why reading `columns` (a statement's or a view definition's readColumns) quotes a constant no
 * mask or deny rule follows, in words starting with the column, or null.
 */
export function constantColumnRead(columns: Iterable<SourceColumn>): string | null {
  for (const { table, column } of columns) {
    const quoting = CONSTANT_COLUMNS.get(table);
    if (!quoting) continue;
    if (column === '*') {
      const [name, why] = [...quoting][0]!;
      return `${table}.${name} ${why}, and every column of ${table} is read (\`*\`, \`t.*\`, a whole-row reference, a renamed table or NATURAL JOIN; name the columns you need)`;
    }
    const why = quoting.get(column);
    if (why) return `${table}.${column} ${why}`;
  }
  return null;
}
