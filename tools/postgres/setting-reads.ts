/**
 * current_setting() while masks or conditional deny rules apply. A setting's value is a stored
 * constant no mask follows when it is a custom one (`ALTER ROLE/DATABASE ... SET app.api_key =
 * '...'`), so statistics-values.ts refuses the call (CONSTANT_FUNCTIONS) unless every
 * current_setting of the statement names a built-in setting (`search_path`, `TimeZone`, any case)
 * by a string constant (SqlFacts.settings, analysis/settings.ts): those hold the server's
 * configuration, which SHOW reads under the same rule. A custom name, or one that is no constant
 * (a column, a parameter, an expression: it may name anything at run time), is refused as before.
 * A view calling current_setting is still refused whole: its arguments are not read here.
 * pg_settings.setting stays refused (catalog-columns.ts), whatever name a WHERE clause asks for.
 */
import { isBuiltInSetting, isCurrentSetting } from './analysis/settings.js';
import type { SqlFacts } from './analysis/types.js';

export { isCurrentSetting };

const STILL_READ = "built-in settings such as current_setting('search_path') still read";

/**
 * Why the statement's current_setting calls read what masks and deny rules cannot follow, in
 * words starting with ': ', or null when each names a built-in setting by a constant. No
 * recorded setting at all means one went unrecorded: unknown, so refused (fail closed).
 */
export function settingReadProblem(facts: Pick<SqlFacts, 'settings'>): string | null {
  const custom = facts.settings.find((s): s is string => s !== null && !isBuiltInSetting(s));
  if (custom !== undefined) {
    return `: current_setting('${custom}') reads a custom setting (its name is no built-in setting's, and \`ALTER ROLE/DATABASE ... SET\` may have given it a secret; ${STILL_READ})`;
  }
  if (facts.settings.length === 0 || facts.settings.includes(null)) {
    return (
      ": the setting's name is not a string constant Warden reads as PostgreSQL does (a column, a parameter, an expression, " +
      `an E'' escape, a cast other than to text or varchar), so it may name a custom setting at run time (${STILL_READ}; write the name as a plain 'string')`
    );
  }
  return null;
}
